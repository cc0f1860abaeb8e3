"""Reports for the ministry: dashboards, breakdowns, downloads and the public "what we heard" page."""
