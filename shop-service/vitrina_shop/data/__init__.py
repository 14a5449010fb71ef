"""Data access: the queries and writes on products, carts, orders and the event log, apart from views."""
