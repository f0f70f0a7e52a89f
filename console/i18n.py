"""The console's words in Chinese (the default) and English, and local-time formatting."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LANGS = ("zh-CN", "en")
DEFAULT = "zh-CN"

_WORDS: dict[str, tuple[str, str]] = {
    "console": ("Servitize 控制台", "Servitize console"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "old_password": ("当前密码", "Current password"),
    "new_password": ("新密码", "New password"),
    "change_password": ("修改密码", "Change password"),
    "password_changed": ("密码已修改", "Password changed"),
    "bad_credentials": ("用户名或密码错误", "Wrong user name or password"),
    "locked": ("账户已锁定,请 {s} 秒后再试", "Account locked; try again in {s} s"),
    "throttled": ("尝试过于频繁,请 {s} 秒后再试", "Too many attempts; try again in {s} s"),
    "fleet": ("设备总览", "Fleet"),
    "alerts": ("告警", "Alerts"),
    "finance": ("财务", "Finance"),
    "users": ("用户", "Users"),
    "device": ("设备", "Device"),
    "site": ("站点", "Site"),
    "tenant": ("租户", "Tenant"),
    "type": ("类型", "Type"),
    "severity": ("严重程度", "Severity"),
    "state": ("状态", "State"),
    "text": ("文本", "Text"),
    "filter": ("筛选", "Filter"),
    "any": ("全部", "any"),
    "opened": ("开始时间", "Opened"),
    "message": ("描述", "Message"),
    "acknowledge": ("确认", "Acknowledge"),
    "resolve": ("关闭", "Resolve"),
    "comment": ("评论", "Comment"),
    "evidence": ("证据", "Evidence"),
    "audit": ("审计记录", "Audit trail"),
    "online": ("在线", "online"),
    "offline": ("离线", "offline"),
    "never_seen": ("从未上线", "never seen"),
    "presence": ("在线状态", "Presence"),
    "last_seen": ("最后上报", "Last seen"),
    "open_alerts": ("未关闭告警", "Open alerts"),
    "latest": ("最新数值", "Latest values"),
    "metric": ("指标", "Metric"),
    "value": ("数值", "Value"),
    "plans": ("套餐", "Plans"),
    "subscriptions": ("订阅", "Subscriptions"),
    "invoices": ("发票", "Invoices"),
    "credit_notes": ("红字发票", "Credit notes"),
    "number": ("编号", "Number"),
    "period": ("账期", "Period"),
    "status": ("状态", "Status"),
    "total": ("合计", "Total"),
    "revenue": ("月经常性收入 MRR(含草稿发票)", "Monthly recurring revenue (drafts included)"),
    "role": ("角色", "Role"),
    "create_user": ("新建用户", "Create user"),
    "display_name": ("姓名", "Name"),
    "created": ("已创建", "Created"),
    "no_rows": ("没有数据", "Nothing here"),
    "site_plot": ("站点分布", "Site plot"),
    "at": ("时间", "At"),
    "actor": ("操作人", "By"),
    "action": ("动作", "Action"),
    "forbidden": ("无权访问", "Not allowed"),
    "not_found": ("未找到", "Not found"),
    "csrf": ("表单已过期,请刷新后重试", "The form expired; reload and try again"),
    "plan": ("套餐", "Plan"),
    "starts": ("开始", "Starts"),
    "ends": ("结束", "Ends"),
    "language": ("English", "中文"),
    "no_data": ("近两天无数据", "No data in the last two days"),
    "info": ("提示", "info"),
    "warning": ("警告", "warning"),
    "major": ("严重", "major"),
    "critical": ("紧急", "critical"),
    "active_unacknowledged": ("活动·未确认", "active, unacknowledged"),
    "active_acknowledged": ("活动·已确认", "active, acknowledged"),
    "cleared_unacknowledged": ("已恢复·未确认", "cleared, unacknowledged"),
    "cleared_acknowledged": ("已恢复·已确认", "cleared, acknowledged"),
    "closed": ("已关闭", "closed"),
    "f_open": ("未关闭", "open"),
    "f_active": ("活动", "active"),
    "f_cleared": ("已恢复", "cleared"),
    "f_unacknowledged": ("未确认", "unacknowledged"),
    "f_closed": ("已关闭", "closed"),
}


def pick(lang: str | None) -> str:
    """A supported language (the default for anything else)."""
    return lang if lang in LANGS else DEFAULT


def word(key: str, lang: str, **values: object) -> str:
    """The word for a key in a language (the key itself when unknown)."""
    pair = _WORDS.get(key)
    text = key if pair is None else pair[LANGS.index(pick(lang))]
    return text.format(**values) if values else text


def local(ts: datetime | None, zone: str | None) -> str:
    """A time in a zone as `YYYY-MM-DD HH:MM:SS` (empty for None)."""
    if ts is None:
        return ""
    return ts.astimezone(ZoneInfo(zone or "UTC")).strftime("%Y-%m-%d %H:%M:%S")
