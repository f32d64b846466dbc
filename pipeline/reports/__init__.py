"""Layer reports: great-tables pages and SVG charts from the marts, with the public profile's disclosure
decisions."""
