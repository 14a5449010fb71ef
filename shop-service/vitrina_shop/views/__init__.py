"""The blueprints, one per feature: each module holds the routes of one part of the shop."""
