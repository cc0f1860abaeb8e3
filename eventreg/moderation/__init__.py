"""Organiser side of comments: the moderation queue, paper entry, decisions and grouping."""
