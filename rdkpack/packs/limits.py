"""The AWS Config and CloudFormation limits a conformance pack must fit, in one place.

Sources: AWS Config service quotas (rules per pack, parameters), PutConformancePack's TemplateBody
and TemplateS3Uri size limits, and the RemediationConfiguration parameter limits.
"""

TEMPLATE_BODY_MAX = 51_200
TEMPLATE_S3_MAX = 300 * 1024
RULES_MAX = 130
PACK_PARAMETERS_MAX = 60
INPUT_PARAMETERS_MAX = 1024
RULE_NAME_MAX = 128
REMEDIATION_PARAMETERS_MAX = 25
STATIC_VALUES_MAX = 25
STATIC_VALUE_CHARS_MAX = 256
SCP_CHARACTERS_MAX = 5_120  # AWS Organizations: one service control policy, whitespace included
