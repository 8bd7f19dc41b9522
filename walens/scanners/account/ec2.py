"""EC2: security groups (what SEC021 judges of a VPC function's egress), and the regions the account has
enabled (``--all-regions``, not a collected service of its own).

``DescribeSecurityGroups`` is one paginated call per region. Groups become ``AWS::EC2::SecurityGroup`` with
``SecurityGroupEgress``/``SecurityGroupIngress`` as a template writes them (one rule per address range or
group); a function's ``VpcConfig.SecurityGroupIds`` refer to them by the ``{{ref:<group resource id>}}``
placeholder a template's ``Ref`` gives (lambda_.function_properties), so facts relate them unchanged.
"""

from __future__ import annotations

from typing import Any

from walens.model import Resource
from walens.scanners.account.core import Ctx

SERVICE = "ec2"
SECURITY_GROUP = "AWS::EC2::SecurityGroup"
OPERATIONS: dict[str, tuple[str, ...]] = {"DescribeSecurityGroups": (SECURITY_GROUP,)}
# What this collector fills in (walens.needs): resource type -> the Properties it sets when the account has them.
PROVIDES: dict[str, frozenset[str]] = {
    SECURITY_GROUP: frozenset({"GroupName", "GroupDescription", "VpcId", "SecurityGroupEgress", "SecurityGroupIngress"}),
}
# When the listing fails, which security groups a VPC function's egress allows is unknown in that region
# (the fourth item: only functions with a VpcConfig; the others have no security group).
REGION_UNKNOWNS: dict[str, list[tuple[str, ...]]] = {
    "DescribeSecurityGroups": [("AWS::Lambda::Function", "facts", "open_egress_security_groups", "VpcConfig")],
}


class _Namespace:
    """A collector-like namespace for calls outside any collected service (``Ctx`` and iam-policy read it)."""

    def __init__(self, name: str, service: str, operations: dict[str, tuple[str, ...]]) -> None:
        self.__name__ = name
        self.SERVICE = service
        self.OPERATIONS = operations


# --all-regions lists the enabled regions whatever --services says.
REGIONS = _Namespace(f"{__name__}.regions", SERVICE, {"DescribeRegions": ()})


def group_arn(partition: str, region: str, account: str, group_id: str) -> str:
    """The resource id of a security group (its ARN)."""
    return f"arn:{partition}:ec2:{region}:{account}:security-group/{group_id}"


def _rules(permissions: Any, peer: str) -> list[dict[str, Any]]:
    """``IpPermissions``/``IpPermissionsEgress`` as CloudFormation rules, one per address range or group."""
    out: list[dict[str, Any]] = []
    for perm in permissions if isinstance(permissions, list) else []:
        base: dict[str, Any] = {"IpProtocol": str(perm.get("IpProtocol", "-1"))}
        for key in ("FromPort", "ToPort"):
            if perm.get(key) is not None:
                base[key] = perm[key]
        for item in perm.get("IpRanges") or []:
            out.append({**base, "CidrIp": item.get("CidrIp")})
        for item in perm.get("Ipv6Ranges") or []:
            out.append({**base, "CidrIpv6": item.get("CidrIpv6")})
        for item in perm.get("UserIdGroupPairs") or []:
            out.append({**base, f"{peer}SecurityGroupId": item.get("GroupId")})
        for item in perm.get("PrefixListIds") or []:
            out.append({**base, f"{peer}PrefixListId": item.get("PrefixListId")})
    return out


def collect(ctx: Ctx) -> None:
    for group in ctx.pages("DescribeSecurityGroups", "SecurityGroups"):
        arn = group_arn(ctx.partition, ctx.region, ctx.account, group["GroupId"])
        props: dict[str, Any] = {"GroupName": group.get("GroupName"), "GroupDescription": group.get("Description"),
                                 "SecurityGroupEgress": _rules(group.get("IpPermissionsEgress"), "Destination"),
                                 "SecurityGroupIngress": _rules(group.get("IpPermissions"), "Source")}
        if group.get("VpcId"):
            props["VpcId"] = group["VpcId"]
        ctx.add(Resource(id=arn, type=SECURITY_GROUP, properties=props, name=group.get("GroupName"), arn=arn,
                         metadata={"physical_id": group["GroupId"]}))
