"""Layer reports: great-tables pages and matplotlib charts from the marts, with the public profile's disclosure
decisions."""
