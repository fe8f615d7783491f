"""The audit log in words: what was done and to what kind of record (the codes stay in the
database and the exports, which are read by machines and auditors)."""
from __future__ import annotations

from webapp.oversight.auditlog import current_name
from webapp.templating import lang

ACTIONS: dict[str, tuple[str, str]] = {
    "access_report": ("查看个人信息访问记录", "Access report"), "assign_cells": ("分配网格", "Cells assigned"),
    "assign_plates": ("分配门牌码", "Plates assigned"), "campaign.close": ("结束重点排查", "Campaign closed"),
    "campaign.generate": ("生成排查任务", "Campaign tasks generated"), "campaign.open": ("开启重点排查", "Campaign opened"),
    "cell_people": ("调整网格人员", "Cell's people changed"), "cells.assign": ("房屋划入网格", "Houses placed in cells"),
    "cells.import": ("导入网格", "Cells imported"), "close_task": ("办结待办", "Task closed"),
    "community_report": ("社区报告", "Community report"), "create_user": ("新建账号", "Login created"),
    "cycle.close": ("结束采集周期", "Cycle closed"), "deactivate_user": ("停用账号", "Login deactivated"),
    "demolish_house": ("房屋拆除", "House demolished"), "device_login_failed": ("手机登录失败", "Phone login failed"),
    "device_refused": ("手机登记被拒", "Phone refused"), "device_registered": ("登记手机", "Phone registered"),
    "device_replaced": ("更换手机登录", "Phone login replaced"), "device_self_revoked": ("手机退出", "Phone logged out"),
    "edit_house": ("修改房屋", "House edited"), "edit_person": ("修改人员", "Person edited"),
    "edit_user": ("修改账号", "Login edited"), "escalate_task": ("待办逾期上报", "Task escalated"),
    "export_audit": ("导出审计日志", "Audit log exported"), "export_campaign": ("导出排查进度", "Campaign exported"),
    "export_coverage": ("导出走访覆盖", "Coverage exported"), "export_extract": ("导出登记数据", "Extract exported"),
    "export_report": ("导出报表", "Report exported"), "export_statistics": ("导出统计", "Statistics exported"),
    "generate_tasks": ("生成待办", "Tasks generated"), "grades.freeze": ("固定考核结果", "Grades frozen"),
    "import_extract": ("导入登记数据", "Extract imported"), "job_ran": ("每日任务运行", "Daily job ran"),
    "login": ("登录", "Login"), "login_failed": ("登录失败", "Login failed"), "login_throttled": ("登录受限", "Login delayed"),
    "logout": ("退出", "Logout"), "logout_everywhere": ("全部退出", "Logged out everywhere"),
    "merge_records": ("合并记录", "Records merged"), "open_person_edit": ("打开人员修改页", "Person form opened"),
    "password_change_failed": ("修改密码失败", "Password change failed"), "password_changed": ("修改密码", "Password changed"),
    "password_reset": ("重置密码", "Password reset"), "raise_tasks": ("规则发现转待办", "Findings raised as tasks"),
    "reactivate_user": ("恢复账号", "Login reactivated"), "reassign_task": ("改派待办", "Task reassigned"),
    "record_endorsement": ("记录居住证签注", "Endorsement recorded"), "replate_house": ("更换门牌", "House re-plated"),
    "rescue_import": ("导入手机数据文件", "Phone file imported"), "residence_check": ("合法稳定住所核实", "Residence check"),
    "residence_decision": ("合法稳定住所认定", "Residence decision"), "resolve_conflict": ("处理冲突", "Conflict resolved"),
    "review_setting": ("审核设置", "Review setting"), "revoke_device": ("停用手机", "Phone revoked"),
    "search": ("查找", "Search"), "split_house": ("房屋拆分", "House split"),
    "statistics_persons": ("查看统计人员名单", "Statistics list viewed"), "sync_pull": ("手机同步下载", "Phone pull"),
    "task_due_date": ("调整待办期限", "Task due date moved"), "view_audit": ("查看审计日志", "Audit log viewed"),
    "view_certificate": ("查看住所证明", "Certificate viewed"), "view_conflict": ("查看冲突", "Conflict viewed"),
    "view_house": ("查看房屋", "House viewed"), "view_house_history": ("查看房屋变更记录", "House history viewed"),
    "view_person": ("查看人员", "Person viewed"), "view_report": ("查看报表名单", "Report list viewed"), "view_person_history": ("查看人员变更记录", "Person history viewed"),
    "view_unit": ("查看单位", "Unit viewed"), "view_unit_history": ("查看单位变更记录", "Unit history viewed"),
}
OBJECTS: dict[str, tuple[str, str]] = {
    "person": ("人员", "Person"), "house": ("房屋", "House"), "unit": ("单位", "Unit"), "user": ("账号", "Login"),
    "cell": ("网格", "Cell"), "committee": ("居委会", "Committee"), "conflict": ("冲突", "Conflict"),
    "cycle": ("采集周期", "Cycle"), "device": ("手机", "Phone"), "extract": ("登记数据", "Extract"),
    "rule": ("规则", "Rule"), "task": ("待办", "Task"), "campaign": ("重点排查", "Campaign"), "job": ("每日任务", "Daily job"),
}


def _pick(words: tuple[str, str]) -> str:
    return words[0] if lang() == "zh" else words[1]


def action_label(action: str) -> str:
    return _pick(ACTIONS.get(current_name(action), ("其他操作", "Other")))


def object_label(kind: str | None) -> str:
    return _pick(OBJECTS.get(current_name(kind or ""), ("", "")))
