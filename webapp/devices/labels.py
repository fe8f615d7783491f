"""A phone as people name it ("安卓手机 · 谷歌浏览器 131"), not the user-agent string the app
sends as its label (platform / navigator.userAgent): the device list is read by a committee."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from webapp.templating import lang

# (pattern in the label, Chinese, English), the first that matches; browsers before engines
# they embed (WeChat and the vendors' browsers are Chrome underneath, Edge too).
BROWSERS = (
    (r"MicroMessenger/([\d]+)", "微信内置浏览器", "WeChat browser"),
    (r"HuaweiBrowser/([\d]+)", "华为浏览器", "Huawei Browser"),
    (r"MiuiBrowser/([\d]+)", "小米浏览器", "Xiaomi Browser"),
    (r"UCBrowser/([\d]+)", "优视浏览器", "UC Browser"),
    (r"MQQBrowser/([\d]+)", "手机QQ浏览器", "QQ Browser"),
    (r"SamsungBrowser/([\d]+)", "三星浏览器", "Samsung Internet"),
    (r"EdgA?/([\d]+)", "微软浏览器", "Edge"),
    (r"Firefox/([\d]+)", "火狐浏览器", "Firefox"),
    (r"(?:Chrome|CriOS)/([\d]+)", "谷歌浏览器", "Chrome"),
    (r"Version/([\d]+)[.\d]* (?:Mobile/\S+ )?Safari", "苹果浏览器", "Safari"),
)
PLATFORMS = (
    (r"iPhone", "苹果手机", "iPhone"), (r"iPad", "苹果平板", "iPad"), (r"Android", "安卓手机", "Android phone"),
    (r"HarmonyOS|OpenHarmony", "鸿蒙手机", "HarmonyOS phone"), (r"Windows", "电脑", "Windows PC"),
    (r"Macintosh|Mac OS|MacIntel", "苹果电脑", "Mac"), (r"Linux|X11", "电脑", "Linux PC"),
)


def device_name(label: str | None) -> str:
    """The label in words; an unrecognised user agent as "手机" (the raw string says nothing to
    a reader)."""
    text = label or ""
    if text and "Mozilla/" not in text and " / " not in text:
        return text  # a name someone gave the phone ("Redmi A"), not what the app sends
    zh = lang() == "zh"
    platform = next(((z if zh else e) for pattern, z, e in PLATFORMS if re.search(pattern, text)), "手机" if zh else "phone")
    for pattern, z, e in BROWSERS:
        found = re.search(pattern, text)
        if found:
            return f"{platform} · {z if zh else e} {found.group(1)}"
    return platform


# A rescue import's outcome per mutation, for the centre reading the result (sync/codes.py
# OUTCOMES says the same to a phone): above all, whether what was typed is kept.
OUTCOMES = {
    "applied": _l("Written to the register"),
    "merged": _l("Written, merged with changes made elsewhere"),
    "conflict": _l("Kept whole for the centre to decide (conflict)"),
    "rejected": _l("Refused: not written, and what was typed is not kept"),
    "blocked": _l("Not written: it depends on a refused change, and what was typed is not kept"),
}


def outcome_label(status: str, first_status: str | None = None) -> str:
    """The outcome in words; one imported before says what it got then."""
    if status == "already_applied":
        then = OUTCOMES.get(first_status or "")
        return _("Imported before: %(then)s", then=then) if then else _("Imported before")
    return str(OUTCOMES.get(status, status))
