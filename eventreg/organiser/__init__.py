"""The organiser workspace: running sessions, their registrations, check-in and walk-ins."""
