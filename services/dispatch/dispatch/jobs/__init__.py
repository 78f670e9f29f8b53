"""Jobs: dispatch's copy of each request, kept from intake's events, and reassignment."""
