"""The report workbook's sheet and column titles in Simplified Chinese (zh-CN).

Kept apart from :mod:`.export` (the file format) so the wording is a table to review.
English keeps the rows' own keys (``connect_rate``), which scripts read; Chinese gets
the words a call centre's team lead reads, the same as the printable daily report's
(:mod:`.daily_words`: 外呼量, 接通率, 放弃率, 话后处理, 示忙, 质检). A key with no
title here keeps its key (a test checks every report's columns have one).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["COLUMNS", "SHEETS", "titles"]

#: Report kind (charts.KINDS) -> its sheet's name (Excel allows 31 characters).
SHEETS: dict[str, Mapping[str, str]] = {"zh-CN": {
    "campaign": "外呼活动",
    "agent": "坐席",
    "hour": "分时呼叫",
    "state": "坐席状态时长",
    "disposition": "通话小结",
    "sms": "短信",
    "abandon": "监管窗口放弃率",
    "outcomes": "呼叫结果",
    "breakdown": "坐席时间分布",
    "penetration": "名单渗透率",
    "best_hours": "最佳拨打时段",
    "qa": "质检",
}}

#: Row key -> its column title.
COLUMNS: dict[str, Mapping[str, str]] = {"zh-CN": {
    "campaign": "活动",
    "agent": "坐席",
    "hour": "时段",
    "dials": "外呼量",
    "answers": "应答量",
    "connects": "接通量",
    "connect_rate": "接通率",
    "answer_rate": "应答率",
    "abandoned": "放弃量",
    "abandon_rate": "放弃率",
    "avg_talk": "平均通话（秒）",
    "avg_wrap": "平均话后（秒）",
    "logged_in_h": "签入（小时）",
    "paused_h": "示忙（小时）",
    "occupancy": "占用率",
    "n_human": "真人接听",
    "n_machine": "答录机",
    "n_fax": "传真",
    "n_busy": "忙线",
    "n_no_answer": "无人接听",
    "n_congestion": "网络拥塞",
    "n_invalid_number": "空号",
    "n_unreachable": "无法接通",
    "n_rejected": "拒接",
    "n_abandoned": "放弃",
    "n_error": "错误",
    "contacts": "名单数",
    "new_contacts": "首拨名单数",
    "dialled": "已拨名单数",
    "penetration": "渗透率",
    "penetration_added": "新增渗透率",
    "finished": "完成率",
    "window": "监管窗口",
    "window_abandon_rate": "窗口放弃率",
    "max_answer_to_agent_s": "接听至转坐席最长（秒）",
    "max_greeting_to_agent_s": "问候至转坐席最长（秒）",
    "regime": "监管规则",
    "live": "真人接听量",
    "cap": "上限",
    "target": "目标",
    "level": "状态等级",
    "outcome": "呼叫结果",
    "share": "占比",
    "code": "小结代码",
    "count": "次数",
    "automatic": "自动",
    "agents": "坐席数",
    "talk_s": "通话（秒）",
    "wrap_s": "话后处理（秒）",
    "pause_s": "示忙（秒）",
    "waiting_s": "等待（秒）",
    "logged_in_s": "签入（秒）",
    "talk_share": "通话占比",
    "wrap_share": "话后处理占比",
    "pause_share": "示忙占比",
    "waiting_share": "等待占比",
    "rank": "排名",
    "state": "状态",
    "reason": "原因",
    "stretches": "段数",
    "seconds": "秒数",
    "minutes": "分钟",
    "total": "总数",
    "queued": "待发送",
    "sent": "已发送",
    "delivered": "已送达",
    "failed": "失败",
    "reviews": "质检次数",
    "calls": "通话数",
    "avg_score": "平均分",
    "min_score": "最低分",
    "max_score": "最高分",
    "pass_rate": "合格率",
}}


def titles(lang: str) -> tuple[Mapping[str, str], Mapping[str, str]]:
    """(sheet names, column titles) of ``lang``; English is empty: the keys as they are.
    ValueError names the languages for any other tag."""
    if lang == "en":
        return {}, {}
    try:
        return SHEETS[lang], COLUMNS[lang]
    except KeyError:
        raise ValueError(f"lang must be one of en, {', '.join(SHEETS)}, not {lang!r}"
                         ) from None
