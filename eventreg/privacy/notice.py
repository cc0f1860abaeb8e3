"""The privacy notice people consent to. Change the version whenever the notice's text changes: every
registration and comment records the version in force when consent was given (with the time)."""

PRIVACY_NOTICE_VERSION = "2026-11-30"
