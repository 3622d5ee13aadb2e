"""Project files: rdk-config.json, rule folders, remediation documents, the rule kit and the one loader."""
