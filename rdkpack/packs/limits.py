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
# CloudFormation: TemplateBody of CreateStack, UpdateStack, CreateStackSet, UpdateStackSet, ...; TemplateURL objects.
STACK_TEMPLATE_BODY_MAX = 51_200
STACK_TEMPLATE_URL_MAX = 1_000_000  # "1 MB" in the CloudFormation quotas; the smaller reading of it
SSM_DOCUMENT_CONTENT_MAX = 64 * 1024  # SSM CreateDocument/UpdateDocument Content
FUNCTION_POLICY_MAX = 20 * 1024  # a Lambda function's resource-based policy
ORGANIZATION_PACK_NAME_MAX = 128  # PutOrganizationConformancePack (account packs: 256)
