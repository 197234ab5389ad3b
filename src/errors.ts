/**
 * The one error catalogue: every error the service returns is an entry here.
 *
 * An entry is keyed by a unique name. Most names equal the wire code; where the
 * seed documents give one code two meanings (different HTTP status or message),
 * the key carries a suffix after `#` and `code` holds the wire code.
 * Messages may contain `%s`, filled in order by `apiError(key, ...args)`.
 */
export interface ErrorEntry {
  readonly code: string;
  readonly status: number;
  readonly message: string;
}

const entry = (code: string, status: number, message: string): ErrorEntry => ({
  code,
  status,
  message,
});

export const CATALOGUE = {
  // --- common errors of the RPC gateway (WIRE.md)
  'InvalidAccessKeyId.NotFound': entry(
    'InvalidAccessKeyId.NotFound',
    404,
    'Specified access key is not found.',
  ),
  SignatureDoesNotMatch: entry(
    'SignatureDoesNotMatch',
    400,
    'Specified signature is not matched with our calculation.',
  ),
  IncompleteSignature: entry(
    'IncompleteSignature',
    400,
    'The request signature does not conform to Aliyun standards. %s',
  ),
  'InvalidTimeStamp.Expired': entry(
    'InvalidTimeStamp.Expired',
    400,
    'Specified time stamp or date value is expired.',
  ),
  'InvalidTimeStamp.Format': entry(
    'InvalidTimeStamp.Format',
    400,
    'Specified time stamp or date value is not well formatted.',
  ),
  SignatureNonceUsed: entry(
    'SignatureNonceUsed',
    400,
    'Specified signature nonce was used already.',
  ),
  'InvalidAction.NotFound': entry(
    'InvalidAction.NotFound',
    404,
    'Specified api is not found, please check your url and method.',
  ),
  InvalidVersion: entry('InvalidVersion', 400, 'Specified parameter Version is not valid.'),
  MissingParameter: entry(
    'MissingParameter',
    400,
    'The input parameter "%s" that is mandatory for processing this request is not supplied.',
  ),
  InvalidParameter: entry('InvalidParameter', 400, 'The specified parameter "%s" is not valid.'),
  'InvalidParameter#nonce': entry(
    'InvalidParameter',
    400,
    'The specified parameter "%s" is not valid: a signature nonce has at most %s characters.',
  ),
  'InvalidParameter.Encoding': entry(
    'InvalidParameter',
    400,
    'The specified parameter %s is not valid: it is not well-formed percent-encoded UTF-8.',
  ),
  'InvalidParameter.StateConflict': entry(
    'InvalidParameter.Conflict',
    400,
    '%s; nothing was imported.',
  ),
  'InvalidParameter.State': entry('InvalidParameter', 400, 'The state document is not valid: %s'),
  'InvalidParameter.Format': entry(
    'InvalidParameter.Format',
    400,
    'The specified parameter "Format" is not valid; expected JSON or XML.',
  ),
  'InvalidParameter.Conflict': entry('InvalidParameter.Conflict', 400, '%s'),
  'InvalidParameter.TooMany': entry(
    'InvalidParameter.TooMany',
    400,
    'The parameter "%s" has more than %s items.',
  ),
  RequestTooLarge: entry(
    'RequestTooLarge',
    413,
    'The request body is larger than the service accepts (%s bytes).',
  ),
  'RequestTooLarge#header': entry(
    'RequestTooLarge',
    431,
    'The request line and headers are larger than the service accepts (%s bytes); send the parameters in a form body.',
  ),
  BadRequest: entry('BadRequest', 400, 'The HTTP request is malformed.'),
  'BadRequest#host': entry('BadRequest', 400, 'The HTTP/1.1 request has no Host header.'),
  'BadRequest#upgrade': entry(
    'BadRequest',
    400,
    'The service speaks HTTP/1.1 only: it does not switch protocols (Upgrade).',
  ),
  RequestTimeout: entry(
    'RequestTimeout',
    408,
    'The request did not arrive in time (see --header-timeout and --request-timeout).',
  ),
  ExpectationFailed: entry(
    'ExpectationFailed',
    417,
    'The Expect header is not supported; only 100-continue is.',
  ),
  UnsupportedHTTPMethod: entry(
    'UnsupportedHTTPMethod',
    405,
    'The HTTP method is not supported; use GET or POST.',
  ),
  'InvalidRegionId.NotFound': entry(
    'InvalidRegionId.NotFound',
    404,
    'The specified RegionId does not exist.',
  ),
  IdempotentParameterMismatch: entry(
    'IdempotentParameterMismatch',
    400,
    'The request uses the same client token as a previous, but non-identical request.',
  ),
  Throttling: entry('Throttling', 400, 'Request was denied due to request throttling.'),
  'Throttling#nonces': entry(
    'Throttling',
    400,
    'Request was denied due to request throttling: the service remembers as many signature nonces as it may (--max-nonces); retry in a minute.',
  ),
  'Throttling#feed': entry(
    'Throttling',
    400,
    'Request was denied due to request throttling: as many DescribeSecurityGroupChanges long polls wait as the server allows (--max-feed-waiters); retry shortly, or poll with WaitSeconds=0.',
  ),
  'Throttling.User': entry('Throttling.User', 400, 'Request was denied due to user flow control.'),
  'Throttling.User#nonces': entry(
    'Throttling.User',
    400,
    'Request was denied due to user flow control: this AccessKeyId has as many signature nonces remembered as it may (--max-nonces-per-key); retry in a minute.',
  ),
  InternalError: entry(
    'InternalError',
    500,
    'The request processing has failed due to some unknown error.',
  ),
  ServiceUnavailable: entry(
    'ServiceUnavailable',
    503,
    'The request has failed due to a temporary failure of the server.',
  ),

  // --- AuthorizeSecurityGroup / AuthorizeSecurityGroupEgress (seeds)
  'InvalidSecurityGroupId.NotFound': entry(
    'InvalidSecurityGroupId.NotFound',
    404,
    'The specified SecurityGroupId does not exist.',
  ),
  'InvalidSourceGroupId.NotFound': entry(
    'InvalidSourceGroupId.NotFound',
    404,
    'The SourceGroupId provided does not exist in our records.',
  ),
  'InvalidDestGroupId.NotFound': entry(
    'InvalidDestGroupId.NotFound',
    404,
    'The DestGroupId provided does not exist in our records.',
  ),
  'InvalidSourceGroup.NotFound': entry(
    'InvalidSourceGroup.NotFound',
    400,
    'The specified SourceGroupId does not exist.',
  ),
  'InvalidDestGroup.NotFound': entry(
    'InvalidDestGroup.NotFound',
    400,
    'Specified destination security group does not exist.',
  ),
  OperationDenied: entry(
    'OperationDenied',
    400,
    'The specified IpProtocol does not exist or IpProtocol and PortRange do not match.',
  ),
  'InvalidIpProtocol.Malformed': entry(
    'InvalidIpProtocol.Malformed',
    400,
    'The specified parameter "PortRange" is not valid.',
  ),
  'InvalidIpProtocol.ValueNotSupported': entry(
    'InvalidIpProtocol.ValueNotSupported',
    400,
    'The parameter IpProtocol must be specified with case insensitive TCP, UDP, ICMP, ICMPv6, GRE or All.',
  ),
  'InvalidPriority.Malformed': entry(
    'InvalidPriority.Malformed',
    400,
    'The specified parameter "Priority" is not valid.',
  ),
  'InvalidPriority.ValueNotSupported': entry(
    'InvalidPriority.ValueNotSupported',
    400,
    'The specified Priority is invalid.',
  ),
  'InvalidSourceCidrIp.Malformed': entry(
    'InvalidSourceCidrIp.Malformed',
    400,
    'The specified parameter "SourceCidrIp" is not valid.',
  ),
  'InvalidDestCidrIp.Malformed': entry(
    'InvalidDestCidrIp.Malformed',
    400,
    'The specified parameter "DestCidrIp" is not valid.',
  ),
  'InvalidPolicy.Malformed': entry(
    'InvalidPolicy.Malformed',
    400,
    'The specified parameter "Policy" is not valid.',
  ),
  'InvalidNicType.ValueNotSupported': entry(
    'InvalidNicType.ValueNotSupported',
    400,
    'The specified NicType does not exist.',
  ),
  'InvalidNicType.Mismatch': entry(
    'InvalidNicType.Mismatch',
    400,
    'Specified nic type conflicts with the authorization record.',
  ),
  'InvalidSourceGroupId.Mismatch#vpc': entry(
    'InvalidSourceGroupId.Mismatch',
    400,
    'Specified security group and source group are not in the same VPC.',
  ),
  'InvalidSourceGroupId.Mismatch#nic': entry(
    'InvalidSourceGroupId.Mismatch',
    403,
    'NicType is required or NicType expects intranet.',
  ),
  'InvalidDestGroupId.Mismatch#vpc': entry(
    'InvalidDestGroupId.Mismatch',
    400,
    'Specified security group and destination group are not in the same VPC.',
  ),
  'InvalidDestGroupId.Mismatch#nic': entry(
    'InvalidDestGroupId.Mismatch',
    403,
    'NicType is required or NicType expects intranet.',
  ),
  AuthorizationLimitExceed: entry(
    'AuthorizationLimitExceed',
    403,
    'The maximum number of authorization rules in the security group is exceeded.',
  ),
  'InvalidNetworkType.Mismatch': entry(
    'InvalidNetworkType.Mismatch',
    403,
    'The specified SecurityGroup network type should be same with SourceGroup network type (vpc or classic).',
  ),
  'InvalidNetworkType.Conflict': entry(
    'InvalidNetworkType.Conflict',
    403,
    'The specified SecurityGroup network type should be same with SourceGroup network type (vpc or classic).',
  ),
  'InvalidParamter.Conflict': entry(
    'InvalidParamter.Conflict',
    403,
    'The specified SecurityGroupId should be different from the SourceGroupId.',
  ),
  'InvalidSecurityGroup.IsSame': entry(
    'InvalidSecurityGroup.IsSame',
    403,
    'The authorized SecurityGroupId should be different from the DestGroupId.',
  ),
  'MissingParameter#source': entry(
    'MissingParameter',
    403,
    'The input parameter "SourceGroupId" or "SourceCidrIp" cannot be both blank.',
  ),
  'MissingParameter#dest': entry(
    'MissingParameter',
    403,
    'The input parameter "DestGroupId" or "DestCidrIp" cannot be both blank.',
  ),
  'MissingParameter.Dest': entry(
    'MissingParameter.Dest',
    400,
    'Either DestCidrIp or DestGroupId must be specified.',
  ),
  VPCDisabled: entry('VPCDisabled', 400, "Can't use the SecurityGroup in VPC."),
  'InvalidSecurityGroupDiscription.Malformed': entry(
    'InvalidSecurityGroupDiscription.Malformed',
    400,
    'The specified security group rule description is not valid.',
  ),
  'InvalidSecurityGroup.InvalidNetworkType': entry(
    'InvalidSecurityGroup.InvalidNetworkType',
    400,
    'The specified security group network type is not support this operation, please check the security group network types. For VPC security groups, ClassicLink must be enabled.',
  ),
  'InvalidParam.PortRange': entry(
    'InvalidParam.PortRange',
    400,
    'Please specify the PortRange or SourcePortRange in integer, less than 65535, and separate the range with "/".',
  ),
  'InvalidParam.SourceIp': entry('InvalidParam.SourceIp', 400, '%s'),
  'InvalidParam.DestIp': entry('InvalidParam.DestIp', 400, '%s'),
  'InvalidParam.Ipv6DestCidrIp': entry('InvalidParam.Ipv6DestCidrIp', 400, '%s'),
  'InvalidParam.Ipv6SourceCidrIp': entry('InvalidParam.Ipv6SourceCidrIp', 400, '%s'),
  'InvalidParam.Ipv4ProtocolConflictWithIpv6Address': entry(
    'InvalidParam.Ipv4ProtocolConflictWithIpv6Address',
    400,
    '%s',
  ),
  'InvalidParam.Ipv6ProtocolConflictWithIpv4Address': entry(
    'InvalidParam.Ipv6ProtocolConflictWithIpv4Address',
    400,
    '%s',
  ),
  ILLEGAL_IPV6_CIDR: entry('ILLEGAL_IPV6_CIDR', 400, '%s'),
  'InvalidPermission.Duplicate': entry(
    'InvalidPermission.Duplicate',
    400,
    'The specified rule already exists.',
  ),

  // --- the actions around the seeds (issue: security groups and their rules)
  'InvalidVpcId.NotFound': entry(
    'InvalidVpcId.NotFound',
    404,
    'The specified VpcId does not exist.',
  ),
  'InvalidSecurityGroupName.Malformed': entry(
    'InvalidSecurityGroupName.Malformed',
    400,
    'The specified parameter "SecurityGroupName" is not valid.',
  ),
  'InvalidDescription.Malformed': entry(
    'InvalidDescription.Malformed',
    400,
    'The specified parameter "Description" is not valid.',
  ),
  'InvalidSecurityGroupType.ValueNotSupported': entry(
    'InvalidSecurityGroupType.ValueNotSupported',
    400,
    'The specified SecurityGroupType is not supported; expected normal or enterprise.',
  ),
  'InvalidSecurityGroupType.NotSupportGroupAuth': entry(
    'InvalidSecurityGroupType.NotSupportGroupAuth',
    400,
    'An enterprise security group does not support rules that reference security groups.',
  ),
  'Duplicate.TagKey': entry('Duplicate.TagKey', 400, 'The Tag.N.Key contain duplicate key.'),
  'InvalidTagKey.Malformed': entry(
    'InvalidTagKey.Malformed',
    400,
    'The specified Tag.n.Key is not valid.',
  ),
  'InvalidTagValue.Malformed': entry(
    'InvalidTagValue.Malformed',
    400,
    'The specified Tag.n.Value is not valid.',
  ),
  'InvalidTagKey#vpc': entry('InvalidTagKey', 400, 'The tag keys are not valid.'),
  'InvalidTagValue#vpc': entry('InvalidTagValue', 400, 'The tag values are not valid.'),
  'NumberExceed.Tags': entry(
    'NumberExceed.Tags',
    400,
    "The Tags parameter's number is exceed , Valid : 20",
  ),
  'NumberExceed.ResourceIds': entry(
    'NumberExceed.ResourceIds',
    400,
    "The ResourceIds parameter's number is exceed , Valid : 50",
  ),
  'OperationDenied.QuotaExceed': entry(
    'OperationDenied.QuotaExceed',
    400,
    'The quota of tags on resource is beyond permitted range: %s would hold more than %s tags.',
  ),
  'InvalidResourceId.NotFound': entry(
    'InvalidResourceId.NotFound',
    404,
    'The specified ResourceIds are not found in our records (%s).',
  ),
  'InvalidResourceType.NotFound': entry(
    'InvalidResourceType.NotFound',
    404,
    'The ResourceType provided does not exist in our records.',
  ),
  'InvalidResourceGroupId.Malformed': entry(
    'InvalidResourceGroupId.Malformed',
    400,
    'The specified resource group id is not valid; expected rg- followed by letters and digits.',
  ),
  'MissingParameter.TagOrResourceId': entry(
    'MissingParameter.TagOrResourceId',
    400,
    'Either ResourceId.N or Tag.N must be specified.',
  ),
  'QuotaExceed.SecurityGroup': entry(
    'QuotaExceed.SecurityGroup',
    400,
    'The maximum number of security groups in this region is exceeded.',
  ),
  DependencyViolation: entry(
    'DependencyViolation',
    403,
    'There is other security group authorized to this security group or it is in use.',
  ),
  'InvalidInnerAccessPolicy.ValueNotSupported': entry(
    'InvalidInnerAccessPolicy.ValueNotSupported',
    400,
    'The specified InnerAccessPolicy is not supported; expected Accept or Drop.',
  ),
  'InvalidSecurityGroupRule.RuleNotExist': entry(
    'InvalidSecurityGroupRule.RuleNotExist',
    400,
    'The specified security group rule does not exist.',
  ),
  'SecurityGroupRule.NotFound': entry(
    'SecurityGroupRule.NotFound',
    404,
    'The security group rule that the parameters define does not exist (give SecurityGroupRuleId, or the rule exactly as created).',
  ),
  'InvalidParam.SecurityGroupRuleId': entry(
    'InvalidParam.SecurityGroupRuleId',
    400,
    'The specified SecurityGroupRuleId is invalid or does not exist.',
  ),
  'InvalidSecurityGroupRule.KindChange': entry(
    'InvalidParameter.Conflict',
    400,
    'A rule may not change the kind of its far end (CIDR, IPv6 CIDR or security group).',
  ),
  'InvalidNextToken.Malformed': entry(
    'InvalidNextToken.Malformed',
    400,
    'The specified parameter "NextToken" is not valid.',
  ),
  'InvalidPageNumber.Malformed': entry(
    'InvalidPageNumber.Malformed',
    400,
    'The specified parameter "PageNumber" is not valid.',
  ),
  'InvalidPageSize.Malformed': entry(
    'InvalidPageSize.Malformed',
    400,
    'The specified parameter "PageSize" is not valid.',
  ),
  'InvalidCidrBlock.Malformed': entry(
    'InvalidCidrBlock.Malformed',
    400,
    'Specified CIDR block is not valid.',
  ),
  'InvalidVpcDiscription.Malformed': entry(
    'InvalidVpcDiscription.Malformed',
    400,
    'Specified VPC description is not valid.',
  ),
  UnsupportedParameter: entry('UnsupportedParameter', 400, 'The parameter %s is not supported.'),
  'InvalidVpcName.Malformed': entry(
    'InvalidVpcName.Malformed',
    400,
    'Specified VPC name is not valid.',
  ),
  'InvalidCidrBlock.VSwitchOutside': entry(
    'InvalidCidrBlock.Malformed',
    400,
    'The new CIDR block of the VPC must contain the CIDR block of every vSwitch in it (%s: %s).',
  ),
  'DependencyViolation.SecurityGroup': entry(
    'DependencyViolation.SecurityGroup',
    400,
    'Specified VPC still has security groups.',
  ),
  'DependencyViolation.VSwitch': entry(
    'DependencyViolation.VSwitch',
    400,
    'Specified VPC still has vSwitches.',
  ),
  // --- endpoints: vSwitches and network interfaces (issue: decision engine)
  'InvalidVSwitchId.NotFound': entry(
    'InvalidVSwitchId.NotFound',
    404,
    'The specified VSwitchId does not exist.',
  ),
  'InvalidZoneId.NotFound': entry(
    'InvalidZoneId.NotFound',
    404,
    'The specified ZoneId does not exist in this region.',
  ),
  'InvalidCidrBlock.NotInVpc': entry(
    'InvalidCidrBlock.NotInVpc',
    400,
    'The vSwitch CIDR block must lie inside the CIDR block of its VPC.',
  ),
  'InvalidCidrBlock.Overlapped': entry(
    'InvalidCidrBlock.Overlapped',
    400,
    'The specified CIDR block overlaps with another vSwitch of the VPC.',
  ),
  'InvalidVSwitchName.Malformed': entry(
    'InvalidVSwitchName.Malformed',
    400,
    'Specified vSwitch name is not valid.',
  ),
  'DependencyViolation.NetworkInterface': entry(
    'DependencyViolation.NetworkInterface',
    400,
    'The specified vSwitch still holds network interfaces.',
  ),
  'InvalidEniId.NotFound': entry(
    'InvalidEniId.NotFound',
    404,
    'The specified NetworkInterfaceId does not exist.',
  ),
  'InvalidNetworkInterfaceName.Malformed': entry(
    'InvalidNetworkInterfaceName.Malformed',
    400,
    'The specified NetworkInterfaceName is not valid.',
  ),
  'InvalidPrivateIpAddress.Malformed': entry(
    'InvalidPrivateIpAddress.Malformed',
    400,
    'The specified private IP address "%s" is not a valid IPv4 address.',
  ),
  'InvalidPrivateIpAddress.Mismatch': entry(
    'InvalidPrivateIpAddress.Mismatch',
    400,
    'The specified PrimaryIpAddress is not an available address of the vSwitch CIDR block.',
  ),
  'InvalidPrivateIpAddress.Duplicated': entry(
    'InvalidPrivateIpAddress.Duplicated',
    400,
    'The specified PrimaryIpAddress is already used by another network interface.',
  ),
  'InvalidVSwitchId.IpNotEnough': entry(
    'InvalidVSwitchId.IpNotEnough',
    403,
    'The specified vSwitch has not enough free IP addresses left.',
  ),
  'InvalidVSwitchId.IpInvalid': entry(
    'InvalidVSwitchId.IpInvalid',
    403,
    'The specified private IP address %s is not an available address of the vSwitch CIDR block.',
  ),
  'InvalidIp.IpAssigned': entry(
    'InvalidIp.IpAssigned',
    403,
    'The specified IP address %s is already assigned.',
  ),
  'InvalidIp.IpUnassigned': entry(
    'InvalidIp.IpUnassigned',
    403,
    'The specified IP address %s is not a secondary private IP address of the network interface.',
  ),
  'QuotaExceed.PrivateIpAddress': entry(
    'QuotaExceed.PrivateIpAddress',
    403,
    'The network interface would hold more than %s secondary private IP addresses.',
  ),
  'InvalidSecurityGroupId.NotInSameVpc': entry(
    'InvalidSecurityGroupId.NotInSameVpc',
    400,
    'The security group and the network interface are not in the same VPC.',
  ),
  'InvalidSecurityGroupType.Mixed': entry(
    'InvalidSecurityGroupType.Mixed',
    400,
    'Normal and enterprise security groups cannot be used together on one network interface.',
  ),
  'InvalidInstanceId.NotFound': entry(
    'InvalidInstanceId.NotFound',
    404,
    'The specified instance does not exist; this service models network interfaces only (use NetworkInterfaceId).',
  ),
  'InvalidParameter.Value': entry(
    'InvalidParameter.Value',
    400,
    'The specified parameter "%s" is not valid: %s',
  ),
  InstanceSecurityGroupLimitExceeded: entry(
    'InstanceSecurityGroupLimitExceeded',
    403,
    'The maximum number of security groups for the network interface (5) is exceeded.',
  ),
  InstanceLastSecurityGroup: entry(
    'InstanceLastSecurityGroup',
    403,
    'The network interface must stay in at least one security group.',
  ),
  InstanceNotInSecurityGroup: entry(
    'InstanceNotInSecurityGroup',
    400,
    'The network interface is not in the specified security group.',
  ),
  'InvalidInstanceId.AlreadyExists': entry(
    'InvalidInstanceId.AlreadyExists',
    400,
    'The network interface is already in the specified security group.',
  ),
  // --- rule analysis (AnalyzeSecurityGroup, AnalyzeNetworkInterface)
  'InvalidParam.SecurityGroupRuleId#whatif': entry(
    'InvalidParam.SecurityGroupRuleId',
    400,
    'The rule %s that %s names is not a rule of %s.',
  ),
  // --- the change feed (DescribeSecurityGroupChanges, this product's own action)
  'InvalidCursor.Malformed': entry(
    'InvalidCursor.Malformed',
    400,
    'The specified Cursor is not valid: give the Cursor of a previous DescribeSecurityGroupChanges answer, or none for a snapshot.',
  ),
} as const satisfies Record<string, ErrorEntry>;

export type ErrorKey = keyof typeof CATALOGUE;

/** An error that will be rendered to the client as the documented envelope. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly key: ErrorKey;

  constructor(key: ErrorKey, message: string) {
    super(message);
    const e: ErrorEntry = CATALOGUE[key];
    this.key = key;
    this.code = e.code;
    this.status = e.status;
  }
}

/**
 * What of a request's text an error message may show: at most 128 characters, control
 * characters, U+FFFE, U+FFFF and halves of surrogate pairs written as `\u{…}`, so a message
 * never carries raw input that a terminal or XML 1.0 cannot hold.
 */
export function shown(value: string): string {
  const s = value.length > 128 ? `${value.slice(0, 128)}…` : value;
  return s.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: it finds the control characters to refuse
    /[\u0000-\u001f\u007f-\u009f\ufffe\uffff]|[\ud800-\udfff]/gu,
    (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`,
  );
}

/** Builds the catalogued error `key`, filling its `%s` placeholders in order (shown safely). */
export function apiError(key: ErrorKey, ...args: (string | number)[]): ApiError {
  let i = 0;
  const message = CATALOGUE[key].message.replace(/%s/g, () => shown(String(args[i++] ?? '')));
  return new ApiError(key, message);
}

/** `e` with where it arose appended to its message (`… (at SecurityGroups.2)`); others as they are. */
export function located(e: unknown, where: string): unknown {
  return e instanceof ApiError ? new ApiError(e.key, `${e.message} (${where})`) : e;
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}
