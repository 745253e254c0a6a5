"""Delivery of what a run wrote: metrics (EMF), the SNS notification, the Security Hub export."""
