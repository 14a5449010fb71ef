"""Data access: the queries and writes on products, carts and the event log, apart from the views."""
