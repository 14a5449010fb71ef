"""The Spark engine of `vitrina-trainer run --engine spark` (the `vitrina-trainer[spark]` extra).

Spark reads and cleans the events and computes the product-side state; the driver fits the
model on a sample of customers; the executors score every customer, partition by partition,
with the same code as the default engine, and publish straight into the staged version, which
the driver activates once every partition succeeded. pyspark is imported only in this package.
"""
