"""A list import's words for the operator, in English or Simplified Chinese: a refused
row's reason (for the rejected-rows file and the CLI's lines) and the import's summary;
and the same for the ``dialer dnc`` commands' refused entries and counts.

The operators of Chinese call centres open ``*.rejected.csv`` in a spreadsheet and read
the CLI's lines; an English-only reason ("phone: a Chinese mobile number has 11 digits,
got 7") is what they were left with. Each refused row has a stable ``code``
(:data:`lists.ROW_REFUSAL_CODES`); Chinese says the code in words, the same words as
the console's list page (``adm.list.refusal.*`` in ``static/console-strings.js``; a
test holds the two together), after the column's name as the file has it. English keeps
the importer's own sentence, which also names the digit counts. A code without words
here (new ones may be added) keeps the English sentence in either language.

Which language: the CLI has no setting of its own, and the system none either (the
console follows each user's browser and choice). A command line follows the POSIX
locale, as gettext does (``LC_ALL``, then ``LC_MESSAGES``, then ``LANG``; any ``zh``
reads Chinese, anything else English), unless ``--lang`` says otherwise: the tags are
the console's and the report API's (``en``, ``zh-CN``).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["LANGUAGES", "ZH_DNC_REFUSALS", "ZH_REFUSALS", "check_language", "cli_language",
           "dnc_count", "dnc_import_summary", "dnc_refusal_line", "import_summary",
           "refusal_reason"]

LANGUAGES = ("en", "zh-CN")

#: Each refusal code in Chinese: console-strings.js's ``adm.list.refusal.<code>`` (zh).
ZH_REFUSALS: dict[str, str] = {
    "number_empty": "号码为空",
    "number_characters": "号码含有非数字字符",
    "number_spreadsheet": "号码被表格软件改成了科学计数法，位数已丢失",
    "number_extension": "号码带分机号，系统无法拨打分机",
    "number_length": "号码位数不对（手机号 11 位；固定电话为区号加 7 或 8 位号码）",
    "number_prefix": "号码开头不存在（手机号以 13–19 开头；本地号码不能以 0 或 1 开头）",
    "number_area": "区号缺失、未分配或不在区号表中",
    "number_service": "400/800 服务号码，不是用户号码",
    "row_malformed": "CSV 格式错误（引号不配对）",
    "row_fields": "该行的列数与表头不一致",
    "time_zone": "时区列的时区无法识别",
    "priority": "优先级列不是整数",
}


#: The prefix refusals of ``dialer dnc`` (``dnc.DNC_REFUSAL_CODES``) in Chinese, as the
#: command line confirms a broad prefix (the admin page names its box instead:
#: ``adm.dnc.refusal.*``). A number's refusals are :data:`ZH_REFUSALS`'.
ZH_DNC_REFUSALS: dict[str, str] = {
    "prefix_form": "前缀须为 + 加数字再加 *（如 +86400*）",
    "prefix_broad": "前缀过宽，会拦截整个国家或其大部分号码：前缀须含国家代码及至少 3 位"
                    "号码（如 +86400*）；确需添加请加 --allow-broad-prefix",
    "prefix_in_check": "查询只接受完整号码，不接受前缀（前缀条目见 trunkline dialer dnc "
                       "list --prefixes）",
}


def check_language(lang: str) -> str:
    """``lang`` if it is one of :data:`LANGUAGES`; ValueError naming them if not."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    return lang


def refusal_reason(code: str, reason: str, column: str | None, lang: str) -> str:
    """A refused row's reason in ``lang``: English ``reason`` as the importer wrote it;
    Chinese the code's words, after ``column`` (the cell's column) when there is one."""
    words = ZH_REFUSALS.get(code) if check_language(lang) == "zh-CN" else None
    if words is None:
        return reason
    return f"{column}：{words}" if column else words


def import_summary(*, rows: int, added: int, merged: int, rejected: int,
                   rejected_file: str | None, lang: str) -> str:
    """The CLI's one-line summary of an import."""
    if check_language(lang) == "zh-CN":
        text = f"共 {rows} 行：加入 {added}，合并 {merged}，拒绝 {rejected}"
        return text + (f"（被拒的行已写入 {rejected_file}）" if rejected_file else "")
    text = f"{rows} rows: {added} added, {merged} merged, {rejected} rejected"
    return text + (f" (written to {rejected_file})" if rejected_file else "")


def dnc_refusal_line(line: int, code: str, reason: str, lang: str, *,
                     path: str | None = None) -> str:
    """A ``dialer dnc`` refusal's line: ``line`` of the file ``path`` (its first field
    holds the entry), or without ``path`` the 1-based place of a command-line argument."""
    words = ((ZH_REFUSALS.get(code) or ZH_DNC_REFUSALS.get(code))
             if check_language(lang) == "zh-CN" else None)
    if path is not None:
        place = (f"{path}:{line}: 第 1 列（号码）" if words
                 else f"{path}:{line}: field 1 (number)")
    else:
        place = f"第 {line} 个参数" if words else f"argument {line}"
    return f"{place}{'：' if words else ': '}{words or reason} [{code}]"


def dnc_import_summary(path: str, *, added: int, already: int, rejected: int,
                       lang: str) -> str:
    """``dialer dnc import``'s line for one file."""
    if check_language(lang) == "zh-CN":
        return f"{path}：加入 {added}，已在名单中 {already}，拒绝 {rejected}"
    return f"{path}: {added} added, {already} already listed, {rejected} rejected"


def dnc_count(action: str, n: int, lang: str) -> str:
    """``dialer dnc add`` / ``remove``'s count (``action``: ``added`` or ``removed``)."""
    if check_language(lang) == "zh-CN":
        return f"已{'添加' if action == 'added' else '移除'} {n} 个"
    return f"{n} {action}"


def cli_language(asked: str | None, environ: Mapping[str, str]) -> str:
    """The language of a command's words: ``asked`` (``--lang``) if given, else the
    POSIX locale's messages category (the first of ``LC_ALL``, ``LC_MESSAGES``, ``LANG``
    that is set and not empty; POSIX.1-2017 section 8.2): ``zh`` or ``zh_*`` reads
    zh-CN, anything else (``C``, ``en_US.UTF-8``, unset) English."""
    if asked:
        return check_language(asked)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            tag = value.split(".")[0].split("@")[0].replace("-", "_").lower()
            return "zh-CN" if tag == "zh" or tag.startswith("zh_") else "en"
    return "en"
