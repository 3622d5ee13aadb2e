"""SSM Automation as Systems Manager runs it: documents, parameters, steps, and what AWS Config sends."""
