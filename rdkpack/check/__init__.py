"""Shift left: judge CloudFormation, SAM, CDK output and Terraform plans with the same rules as live accounts.

One reader per format turns each resource into a TemplateResource in one normalized, API-like shape; items.py
turns that into the configuration item AWS Config would record; each rule's own code judges it (judge.py).
"""
