"""What the public page says when it cannot show a house, in Chinese and English at once.

Both languages always: whoever scanned the plate may not read the one their browser asked
for, and these pages are reached from a camera, not from our language switch.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    title_zh: str
    title_en: str
    zh: str
    en: str


RESCAN = Message(
    "", "",
    "请重新扫描门上的二维码，或按门牌上印的编码输入。",
    "Please scan the QR code on the door again, or type the code as printed on the plate.",
)
INVALID = Message("门牌码无效", "Not a valid house code", "", "")
TOO_LONG = Message("门牌码无效", "Not a valid house code",
                   "地址中的编码过长，不可能是门牌码。", "The code in this address is far too long to be a house code.")
UNKNOWN = Message("未找到该门牌", "No house has this code",
                  "登记系统中没有使用此编码的房屋。", "No house in the register carries this code.")
RETIRED = Message("此门牌已停用", "This plate is no longer used",
                  "该房屋已更换新门牌，旧门牌不再使用。请扫描门上的新门牌。",
                  "The house was given a new plate and this old one is no longer used. "
                  "Please scan the new plate on the door.")
EXPIRED = Message("页面已过期", "This page has expired",
                  "请返回并刷新页面，然后重新提交。", "Please go back, reload the page and send your report again.")


def too_many(retry_after_s: int) -> Message:
    minutes = max(1, -(-retry_after_s // 60))
    return Message("提交过于频繁", "Too many reports",
                   f"此门牌或您所在网络的提交次数已达上限，请在{minutes}分钟后再试。",
                   f"Too many reports came from this plate or your network; please try again in "
                   f"{minutes} minute{'s' if minutes != 1 else ''}.")
