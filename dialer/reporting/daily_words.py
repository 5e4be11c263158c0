"""The printable daily report's words, in English and Simplified Chinese (zh-CN).

Kept apart from :mod:`.daily` (the layout) so a language is a table to read and review:
the same keys in each (tests check it). The Chinese is the wording a call centre's team
lead reads in such a report: 外呼量 (dials), 接通 (connects), 放弃 (abandons), 坐席
(agents), 话后处理 (wrap-up), 示忙 (not ready), 质检 (quality review); the desk's and
console's own strings use the same words (dialer/service/static/*strings.js).
"""

from __future__ import annotations

__all__ = ["LANGUAGES", "pick_language", "words"]

EN: dict[str, str] = {
    "title": "Daily report {day}",
    "meta": "Local day in {zone}; made {made}. Campaigns: {campaigns}.",
    "none": "none",
    "no_data": "No data.",
    "tile.dials": "dials",
    "tile.connects": "connects",
    "tile.connect_rate": "connect rate",
    "tile.abandoned": "abandoned",
    "tile.abandon_rate": "abandon rate (day)",
    "tile.window": "{campaign}: window rate (cap {cap}, target {target})",
    "h.hours": "Calls by hour",
    "chart.hours": "Connects and abandons by hour",
    "h.abandon": "Abandon rate by hour",
    "chart.abandon": "Abandon rate by hour against the cap",
    "h.outcomes": "Outcomes",
    "chart.outcomes": "Dials by outcome",
    "h.penetration": "List penetration",
    "chart.penetration": "List penetration over the day",
    "h.breakdown": "Where agents' time went",
    "chart.breakdown": "Talk, wrap-up, pause and waiting per agent",
    "h.agents": "Agents",
    "h.campaigns": "Campaigns",
    "h.best": "Best hours to call",
    "h.dispositions": "Dispositions",
    "h.qa": "Quality review (质检)",
    "s.connects": "connects",
    "s.abandoned": "abandoned",
    "s.abandon_rate": "abandon rate",
    "s.dials": "dials",
    "s.cap": "cap",
    "s.target": "target",
    "s.talk": "talk",
    "s.wrap": "wrap",
    "s.pause": "pause",
    "s.waiting": "waiting",
    "c.agent": "agent",
    "c.campaign": "campaign",
    "c.connects": "connects",
    "c.avg_talk": "avg talk s",
    "c.avg_wrap": "avg wrap s",
    "c.logged_in_h": "logged in h",
    "c.paused_h": "paused h",
    "c.occupancy": "occupancy",
    "c.dials": "dials",
    "c.connect_rate": "connect rate",
    "c.abandoned": "abandoned",
    "c.abandon_rate": "abandon rate",
    "c.window_abandon_rate": "window rate",
    "c.penetration": "penetration",
    "c.rank": "rank",
    "c.hour": "hour",
    "c.code": "code",
    "c.count": "count",
    "c.automatic": "automatic",
    "c.agents": "agents",
    "c.reviews": "reviews",
    "c.avg_score": "average",
    "c.min_score": "lowest",
    "c.pass_rate": "pass rate",
}

ZH: dict[str, str] = {
    "title": "日报 {day}",
    "meta": "本地日期（{zone}）；生成于 {made}。活动：{campaigns}。",
    "none": "无",
    "no_data": "无数据。",
    "tile.dials": "外呼量",
    "tile.connects": "接通量",
    "tile.connect_rate": "接通率",
    "tile.abandoned": "放弃量",
    "tile.abandon_rate": "放弃率（全天）",
    "tile.window": "{campaign}：监管窗口放弃率（上限 {cap}，目标 {target}）",
    "h.hours": "分时呼叫",
    "chart.hours": "每小时接通与放弃",
    "h.abandon": "分时放弃率",
    "chart.abandon": "每小时放弃率与上限对比",
    "h.outcomes": "呼叫结果",
    "chart.outcomes": "按结果统计的外呼量",
    "h.penetration": "名单渗透率",
    "chart.penetration": "全天名单渗透率",
    "h.breakdown": "坐席时间分布",
    "chart.breakdown": "每位坐席的通话、话后处理、示忙与等待",
    "h.agents": "坐席",
    "h.campaigns": "外呼活动",
    "h.best": "最佳拨打时段",
    "h.dispositions": "通话小结",
    "h.qa": "质检",
    "s.connects": "接通",
    "s.abandoned": "放弃",
    "s.abandon_rate": "放弃率",
    "s.dials": "外呼",
    "s.cap": "上限",
    "s.target": "目标",
    "s.talk": "通话",
    "s.wrap": "话后处理",
    "s.pause": "示忙",
    "s.waiting": "等待",
    "c.agent": "坐席",
    "c.campaign": "活动",
    "c.connects": "接通量",
    "c.avg_talk": "平均通话（秒）",
    "c.avg_wrap": "平均话后（秒）",
    "c.logged_in_h": "签入（小时）",
    "c.paused_h": "示忙（小时）",
    "c.occupancy": "占用率",
    "c.dials": "外呼量",
    "c.connect_rate": "接通率",
    "c.abandoned": "放弃量",
    "c.abandon_rate": "放弃率",
    "c.window_abandon_rate": "窗口放弃率",
    "c.penetration": "渗透率",
    "c.rank": "排名",
    "c.hour": "时段",
    "c.code": "小结代码",
    "c.count": "次数",
    "c.automatic": "自动",
    "c.agents": "坐席数",
    "c.reviews": "质检次数",
    "c.avg_score": "平均分",
    "c.min_score": "最低分",
    "c.pass_rate": "合格率",
}

#: Language tag -> its words (the tags the pages use: i18n.js).
LANGUAGES: dict[str, dict[str, str]] = {"en": EN, "zh-CN": ZH}


def words(lang: str) -> dict[str, str]:
    """The words of ``lang`` (a tag of :data:`LANGUAGES`); ValueError names the choices."""
    try:
        return LANGUAGES[lang]
    except KeyError:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}"
                         ) from None


def pick_language(asked: str | None, accept_language: str | None) -> str:
    """The report's language: ``asked`` (the page's ``?lang=``, the user's page language)
    if given, else the first of the browser's Accept-Language (RFC 9110 section 12.5.4)
    we have (any ``zh`` reads zh-CN, as the pages do), else English."""
    if asked:
        words(asked)
        return asked
    ranked = []
    for i, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag and q > 0:
            ranked.append((-q, i, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag.split("-")[0] == "zh":
            return "zh-CN"
        if tag.split("-")[0] == "en":
            return "en"
    return "en"
