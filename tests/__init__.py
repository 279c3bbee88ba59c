"""The test suite, laid out like the source: ``tests/<package>/test_<module>.py`` tests
``orchestrator/<package>/<module>.py`` (``test_<module>_<aspect>.py`` when a module has more than
one), and ``tests/e2e`` runs the whole stack.

Every folder is a package whose ``conftest.py`` holds its fixtures (and only fixtures). Data
builders are plain functions in ``tests.factories``, keyword-only after the session; what tests
run against besides the app (real servers, receivers, stacks, harnesses) is in ``tests.support``.
A test that checks that nothing happened first drains the queue it would happen on.
"""
