"""Outbound campaign orchestrator for voice-AI agents."""

__version__ = "0.1.0"
