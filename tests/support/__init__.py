"""What tests run against besides the app: real servers, receivers, whole stacks, harnesses.

Data builders live in ``tests.factories``, fixtures in each folder's ``conftest.py``.
"""
