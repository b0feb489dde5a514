"""Alert formats of CloudWatch (via SNS), Grafana alerting and Uptime Robot.

Each renderer takes one rule firing (the rule, its labels, the service's label maker, the
rule's filled text, the start time and the chunk's RNG) and returns (summary, custom details)
the way that tool's PagerDuty integration delivers them:

- ``cloudwatch``: the SNS notification of a CloudWatch alarm (``Type``, ``MessageId``,
  ``TopicArn``, ``Subject``, ``Message`` as a JSON string with ``AlarmName``,
  ``AWSAccountId``, ``Region``, ``NewStateReason``, ``Trigger`` {``MetricName``,
  ``Namespace``, ``Dimensions``} ...); the summary is the SNS subject,
  ``ALARM: "<alarm name>" in <region>``. One alarm per rule and service.
- ``grafana``: Grafana alerting's PagerDuty contact point with its default templates: summary
  ``[FIRING:1] <alertname> <grafana_folder> (<other label values>)`` (Grafana groups by folder
  and alert name), ``custom_details`` the text alert list (``Value:``, ``Labels:``,
  ``Annotations:``, ``Source:``, ``Silence:``, ...) with string counts, as in
  grafana/alerting's own tests (``../shared/realdata/pagerduty/alertmanager_grafana``).
- ``uptimerobot``: an Uptime Robot monitor going down, its webhook variables as details
  (``monitorID``, ``monitorURL``, ``monitorFriendlyName``, ``alertType``,
  ``alertTypeFriendlyName``, ``alertDetails``, ...). One monitor per rule and service.

Per-firing values (message ids, times, metric values, reasons, instances) change with every
firing; what names the alarm, rule or monitor does not.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime
from urllib.parse import quote

ACCOUNT_REGION = ("eu-west-1", "EU (Ireland)")

# CloudWatch namespace, dimension and metrics a component of this kind would alarm on.
_CLOUDWATCH: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "postgres": ("AWS/RDS", "DBInstanceIdentifier", ("CPUUtilization", "FreeStorageSpace")),
    "mysql": ("AWS/RDS", "DBInstanceIdentifier", ("DatabaseConnections", "ReplicaLag")),
    "mongodb": ("AWS/DocDB", "DBClusterIdentifier", ("CPUUtilization", "VolumeBytesUsed")),
    "redis": ("AWS/ElastiCache", "CacheClusterId", ("EngineCPUUtilization", "Evictions")),
    "search": ("AWS/ES", "DomainName", ("ClusterStatus.red", "FreeStorageSpace")),
    "rabbitmq": ("AWS/AmazonMQ", "Broker", ("MessageCount", "RabbitMQMemUsed")),
    "kafka": ("AWS/Kafka", "Cluster Name", ("KafkaDataLogsDiskUsed", "UnderReplicatedPartitions")),
    "web": (
        "AWS/ApplicationELB",
        "LoadBalancer",
        ("HTTPCode_Target_5XX_Count", "TargetResponseTime", "UnHealthyHostCount"),
    ),
}
_EC2 = ("AWS/EC2", "InstanceId", ("CPUUtilization", "StatusCheckFailed"))

_UPTIME_REASONS = (
    "Connection Timeout",
    "Connection Refused",
    "HTTP 502 - Bad Gateway",
    "HTTP 503 - Service Unavailable",
    "Keyword Not Found",
)


def _number(text: str, digits: int) -> int:
    """A stable number from a text (ids that name an alarm, a monitor, an account)."""
    return int(hashlib.sha1(text.encode()).hexdigest(), 16) % 10**digits


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


def cloudwatch(rule, labels: dict, maker, text: str, started: str, rng) -> tuple[str, dict]:
    """A CloudWatch alarm's SNS notification (see the module docstring)."""
    namespace, dimension, metrics = _CLOUDWATCH.get(maker.kind, _EC2)
    metric = metrics[_number(rule.template_id, 6) % len(metrics)]
    region, region_name = ACCOUNT_REGION
    account = f"{_number(labels['namespace'], 12):012d}"
    alarm = f"{maker.service}-{_kebab(rule.alert)}"
    topic = f"arn:aws:sns:{region}:{account}:pagerduty-{labels['namespace']}"
    if dimension == "LoadBalancer":
        resource = f"app/{maker.service}/{_number(maker.service, 16):016x}"
    elif dimension == "InstanceId":
        resource = f"i-{_number(maker.service, 17):017x}"
    else:
        resource = maker.service
    threshold = float(_number(alarm, 2) + 1)
    value = maker.value("num", rng)
    when = datetime.fromisoformat(started.replace("Z", "+00:00"))
    message = {
        "AlarmName": alarm,
        "AlarmDescription": text,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": "2025-06-02T09:14:31.207+0000",
        "NewStateValue": "ALARM",
        "NewStateReason": (
            f"Threshold Crossed: 1 out of the last 1 datapoints [{value} "
            f"({when:%d/%m/%y %H:%M:%S})] was greater than the threshold ({threshold}) "
            "(minimum 1 datapoint for OK -> ALARM transition)."
        ),
        "StateChangeTime": f"{when:%Y-%m-%dT%H:%M:%S}.000+0000",
        "Region": region_name,
        "AlarmArn": f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm}",
        "OldStateValue": "OK",
        "OKActions": [topic],
        "AlarmActions": [topic],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": metric,
            "Namespace": namespace,
            "StatisticType": "Statistic",
            "Statistic": "AVERAGE",
            "Unit": None,
            "Dimensions": [{"value": resource, "name": dimension}],
            "Period": 300,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": threshold,
            "TreatMissingData": "missing",
            "EvaluateLowSampleCountPercentile": "",
        },
    }
    subject = f'ALARM: "{alarm}" in {region_name}'
    details = {
        "Type": "Notification",
        "MessageId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "TopicArn": topic,
        "Subject": subject,
        "Message": json.dumps(message, separators=(",", ":")),
        "Timestamp": started,
        "SignatureVersion": "1",
        "Signature": f"{rng.getrandbits(256):064x}",
        "SigningCertURL": f"https://sns.{region}.amazonaws.com/SimpleNotificationService.pem",
        "UnsubscribeURL": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe",
    }
    return subject, details


def grafana(rule, labels: dict, maker, text: str, started: str, rng) -> tuple[str, dict]:
    """Grafana alerting's PagerDuty contact point, default templates (module docstring)."""
    folder = labels["namespace"].capitalize()
    full = {
        "alertname": rule.alert,
        "grafana_folder": folder,
        "instance": labels["instance"],
        "job": labels["job"],
        "namespace": labels["namespace"],
        "severity": rule.severity,
    }
    others = " ".join(
        v for k, v in sorted(full.items()) if k not in ("alertname", "grafana_folder")
    )
    summary = f"[FIRING:1] {rule.alert} {folder} ({others})"
    uid = f"{_number(maker.service + rule.template_id, 14):014x}"
    base = "https://grafana.acme.example"
    matchers = "&".join(f"matcher={quote(f'{k}={v}', safe='')}" for k, v in sorted(full.items()))
    dashboard = f"{_number(maker.service, 9):09x}"
    firing = (
        f"\nValue: A={maker.value('num', rng)}, C=1\nLabels:\n"
        + "".join(f" - {k} = {v}\n" for k, v in sorted(full.items()))
        + f"Annotations:\n - summary = {text}\n"
        + f"Source: {base}/alerting/grafana/{uid}/view?orgId=1\n"
        + f"Silence: {base}/alerting/silence/new?alertmanager=grafana&{matchers}\n"
        + f"Dashboard: {base}/d/{dashboard}\nPanel: {base}/d/{dashboard}?viewPanel=2\n"
    )
    details = {"firing": firing, "num_firing": "1", "num_resolved": "0", "resolved": ""}
    return summary, details


def uptimerobot(rule, labels: dict, maker, text: str, started: str, rng) -> tuple[str, dict]:
    """An Uptime Robot monitor going down (module docstring)."""
    name = f"{maker.service} {_kebab(rule.alert)}"
    url = f"https://{maker.service}.acme.example/{_kebab(rule.alert)}"
    # The reason follows the failing target, so a flapping monitor fails the same way.
    reason = _UPTIME_REASONS[
        _number(labels["instance"] + rule.template_id, 6) % len(_UPTIME_REASONS)
    ]
    when = datetime.fromisoformat(started.replace("Z", "+00:00"))
    details = {
        "monitorID": str(_number(maker.service + rule.template_id, 9)),
        "monitorURL": url,
        "monitorFriendlyName": name,
        "alertType": "1",
        "alertTypeFriendlyName": "Down",
        "alertDetails": reason,
        "alertDuration": "",
        "alertDateTime": str(int(when.timestamp())),
        "monitorAlertContacts": f"{_number(labels['namespace'], 7)};4;PagerDuty",
        "sslExpiryDate": "",
        "sslExpiryDaysLeft": "",
    }
    return f"Monitor is DOWN: {name} ( {url} ) - Reason: {reason}", details


OTHER_FORMATS = {"cloudwatch": cloudwatch, "grafana": grafana, "uptimerobot": uptimerobot}
