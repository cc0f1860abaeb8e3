"""The JSON API (/api/v1): public reads and writes, and key-protected reads for tools and dashboards.

Thin like every area: it reads through the same models and rule modules the pages use (availability,
`public_author`, the enums' labels) and writes only through the existing services, each call in one unit
of work owned by the route.
"""
