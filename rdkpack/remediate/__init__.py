"""Remediation across accounts and regions: AWS Config's own remediation of a rule's NON_COMPLIANT resources,
started, paced and followed to its end in each account and region."""
