"""Every text a guest can receive, one function each, in English and Chinese.

English texts use only GSM-7 characters and fit one 160-character segment with 30-character names;
Chinese texts fit one 70-character UCS-2 segment, except the joined text, whose status link alone
takes ~50 characters (tests/unit/test_texts.py renders each with long values and checks).

Never advertise CANCEL as the way to leave: carriers and Twilio treat it as an opt-out from all texts.
"""
from __future__ import annotations

from collections.abc import Callable

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")


def is_gsm7(body: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in body)


def segment_count(body: str) -> int:
    """How many SMS segments a carrier bills for ``body`` (GSM-7 or UCS-2 encoding)."""
    if is_gsm7(body):
        length = sum(2 if ch in GSM7_EXTENDED else 1 for ch in body)
        return 1 if length <= 160 else -(-length // 153)
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in body)
    return 1 if units <= 70 else -(-units // 67)


def _pick(language: str | None, en: str, zh: str) -> str:
    return zh if language == "zh" else en


def joined(lang: str | None, restaurant: str, position: int, wait_range: str, url: str, first_contact: bool) -> str:
    if lang == "zh":
        tail = "回复9离开，STOP退订。" if first_contact else "回复9离开。"
        return f"{restaurant}：您排第{position}位，约{wait_range}分钟。{url} {tail}"
    tail = "Reply 9 or LEAVE to leave, STOP to opt out." if first_contact else "Reply 9 or LEAVE to leave."
    # "~" (two GSM-7 units) rather than "about": with a 30-character name and the link, the first
    # text has no room for more and must stay one segment.
    return f"{restaurant}: You're #{position}, ~{wait_range} min. {url} {tail}"


def join_code_unknown(lang: str | None, restaurant: str) -> str:
    """A JOIN with a code no join page gave (mistyped): how to join anyway. At most one per number per
    few minutes (waitlist.domain.join_codes.JOIN_ERROR_REPLY_SECONDS)."""
    return _pick(
        lang,
        f"{restaurant}: We don't know that code. Check it on the join page, or text JOIN and your party size.",
        f"{restaurant}：验证码无效。请核对排队页面上的验证码，或发送JOIN加人数排队。",
    )


def join_code_expired(lang: str | None, restaurant: str) -> str:
    return _pick(
        lang,
        f"{restaurant}: That code has expired. Join again on our page, or text JOIN and your party size.",
        f"{restaurant}：验证码已过期。请在排队页面重新加入，或发送JOIN加人数排队。",
    )


def join_code_used(lang: str | None, restaurant: str) -> str:
    """Another number joined with this code first: nothing joins for this one."""
    return _pick(
        lang,
        f"{restaurant}: That code was already used from another phone. Text JOIN and your party size to join.",
        f"{restaurant}：该验证码已被其他手机使用。如需排队，请发送JOIN加人数。",
    )


def join_limit(lang: str | None, restaurant: str) -> str:
    """A remote join refused by a cap (the restaurant's remote parties, the number's joins today)."""
    return _pick(
        lang,
        f"{restaurant}: Sorry, we can't take this join from afar right now. Please see the host.",
        f"{restaurant}：抱歉，目前无法远程排队，请到前台排队。",
    )


def closed(lang: str | None, restaurant: str, message: str) -> str:
    note = f" {message}" if message else ""
    return _pick(
        lang,
        f"{restaurant}: Sorry, the waitlist is closed right now.{note}"[:160],
        f"{restaurant}：抱歉，目前暂停排队。{note}"[:70],
    )


def almost_ready(lang: str | None, restaurant: str, position: int) -> str:
    return _pick(
        lang,
        f"{restaurant}: Almost your turn, you're #{position}. Please head back now. Reply 9 to leave.",
        f"{restaurant}：快到您了（第{position}位），请返回餐厅。回复9离开。",
    )


def table_ready(lang: str | None, restaurant: str, hold_minutes: float) -> str:
    held = format_minutes(hold_minutes)
    return _pick(
        lang,
        f"{restaurant}: Your table is ready! We'll hold it {held} min. Reply 1 if you're on your way, L if late.",
        f"{restaurant}：您的餐桌已备好！为您保留{held}分钟。回复1表示在路上，回复L表示晚到。",
    )


def notify_undone(lang: str | None, restaurant: str, position: int) -> str:
    """The host took back a table-ready text sent by mistake: the guest keeps their place."""
    return _pick(
        lang,
        f"{restaurant}: Sorry, our mistake: your table is not ready yet. You're still #{position} in line.",
        f"{restaurant}：抱歉，刚才的通知有误，您的餐桌尚未备好。您仍排在第{position}位。",
    )


def hold_expired(lang: str | None, restaurant: str) -> str:
    return _pick(
        lang,
        f"{restaurant}: We couldn't hold your table any longer and released it. Come see the host to rejoin.",
        f"{restaurant}：很抱歉，您的餐桌保留时间已过，已释放。如需重新排队请联系前台。",
    )


def left_list(lang: str | None, restaurant: str) -> str:
    return _pick(
        lang,
        f"{restaurant}: You've left the waitlist. Hope to see you another time!",
        f"{restaurant}：您已离开候位名单，期待下次光临！",
    )


def custom(lang: str | None, restaurant: str, body: str) -> str:
    """A host's own words, prefixed with the restaurant so the guest knows who writes."""
    return f"{restaurant}: {body}"


def on_the_way_ack(lang: str | None, restaurant: str) -> str:
    return _pick(lang, f"{restaurant}: Thanks, see you soon!", f"{restaurant}：收到，稍后见！")


def arrived_ack(lang: str | None, restaurant: str, ready: bool) -> str:
    """A guest texted "we're here": tell them what happens next, so they don't text again."""
    if ready:
        return _pick(
            lang,
            f"{restaurant}: Welcome! Your table is ready, please come to the host stand.",
            f"{restaurant}：欢迎！您的餐桌已备好，请到前台。",
        )
    return _pick(
        lang,
        f"{restaurant}: Thanks, we know you're here. We'll text you as soon as your table is ready.",
        f"{restaurant}：收到，您已到店。餐桌备好后我们会短信通知您。",
    )


def late_ack(lang: str | None, restaurant: str, hold_until_hhmm: str | None, minutes: int) -> str:
    if hold_until_hhmm:
        return _pick(
            lang,
            f"{restaurant}: No problem, we'll hold your table until {hold_until_hhmm}.",
            f"{restaurant}：没问题，餐桌为您保留到{hold_until_hhmm}。",
        )
    return _pick(
        lang,
        f"{restaurant}: Thanks for letting us know you'll be about {minutes} min late.",
        f"{restaurant}：已收到，您将晚到约{minutes}分钟。",
    )


def status_reply(lang: str | None, restaurant: str, position: int | None, wait_range: str, ready: bool) -> str:
    if ready:
        return _pick(
            lang,
            f"{restaurant}: Your table is ready, please come to the host stand.",
            f"{restaurant}：您的餐桌已备好，请到前台。",
        )
    return _pick(
        lang,
        f"{restaurant}: You're #{position} in line, about {wait_range} min. Reply 9 to leave.",
        f"{restaurant}：您排第{position}位，约{wait_range}分钟。回复9离开。",
    )


def help_reply(lang: str | None, restaurant: str) -> str:
    return _pick(
        lang,
        f"{restaurant} waitlist: S status, L late, 1 on my way, 9 leave, STOP opt out. Other texts go to the host.",
        f"{restaurant}候位：回复S查询，L晚到，1在路上，9离开，STOP退订。其他内容将转给前台。",
    )


def host_will_see(lang: str | None, restaurant: str) -> str:
    return _pick(
        lang,
        f"{restaurant}: Thanks, the host will see your message.",
        f"{restaurant}：已收到，前台会看到您的消息。",
    )


def not_on_list(lang: str | None, restaurant: str) -> str:
    return _pick(
        lang,
        f"{restaurant}: You're not on our waitlist right now. Please see the host to join.",
        f"{restaurant}：您目前不在候位名单中，请联系前台排队。",
    )


def feedback_request(lang: str | None, restaurant: str) -> str:
    return _pick(
        lang,
        f"{restaurant}: Thanks for dining with us! How was your visit? Reply 1-5 (5 = great).",
        f"{restaurant}：感谢光临！请为本次用餐打分，回复1-5（5为最好）。",
    )


def feedback_thanks(lang: str | None, restaurant: str) -> str:
    return _pick(lang, f"{restaurant}: Thank you for your feedback!", f"{restaurant}：感谢您的反馈！")


def format_minutes(minutes: float) -> str:
    """Whole minutes when whole ("10"), one decimal otherwise ("0.5") - tests use short holds."""
    return str(int(minutes)) if float(minutes).is_integer() else f"{minutes:.1f}"


ALL_TEXTS: dict[str, Callable[..., str]] = {
    "joined": joined,
    "almost_ready": almost_ready,
    "table_ready": table_ready,
    "notify_undone": notify_undone,
    "hold_expired": hold_expired,
    "left": left_list,
    "custom": custom,
    "on_the_way_ack": on_the_way_ack,
    "late_ack": late_ack,
    "arrived_ack": arrived_ack,
    "status_reply": status_reply,
    "help": help_reply,
    "host_will_see": host_will_see,
    "not_on_list": not_on_list,
    "feedback_request": feedback_request,
    "feedback_thanks": feedback_thanks,
    "join_code_unknown": join_code_unknown,
    "join_code_expired": join_code_expired,
    "join_code_used": join_code_used,
    "join_limit": join_limit,
    "closed": closed,
}


# --- reservations (waitlist.services.reservations) ----------------------------------------------------
# ``when`` is the restaurant's wall-clock time as "Thu 24 Dec 19:30" (en) or "12月24日 19:30" (zh).

def reservation_booked(lang: str | None, restaurant: str, when: str, party_size: int, url: str) -> str:
    return _pick(
        lang,
        f"{restaurant}: Booked for {party_size}, {when}. Change or cancel: {url} Reply 9 to cancel.",
        f"{restaurant}：已为{party_size}位预订{when}。更改或取消：{url} 回复9取消。",
    )


def reservation_reminder(lang: str | None, restaurant: str, when: str, party_size: int) -> str:
    return _pick(
        lang,
        f"{restaurant}: See you {when}, table for {party_size}. Reply C to confirm, 9 to cancel.",
        f"{restaurant}：提醒您{when}，{party_size}位。回复C确认，回复9取消。",
    )


def reservation_confirmed(lang: str | None, restaurant: str, when: str) -> str:
    return _pick(lang, f"{restaurant}: Thanks, you're confirmed for {when}.",
                 f"{restaurant}：谢谢，已确认{when}的预订。")


def reservation_cancelled(lang: str | None, restaurant: str, when: str) -> str:
    return _pick(lang, f"{restaurant}: Your reservation for {when} is cancelled. Hope to see you another time.",
                 f"{restaurant}：您{when}的预订已取消，期待下次光临。")


def reservation_slot_gone(lang: str | None, restaurant: str, when: str) -> str:
    """The guest texted their booking code, but the time was booked up meanwhile."""
    return _pick(lang, f"{restaurant}: Sorry, {when} was just taken. Please pick another time on our booking page.",
                 f"{restaurant}：抱歉，{when}刚被订满，请在预订页面另选时间。")


def reservation_arrived_early(lang: str | None, restaurant: str) -> str:
    return _pick(lang, f"{restaurant}: Welcome! You're checked in; we'll text when your table is ready.",
                 f"{restaurant}：欢迎！您已签到，餐桌准备好后我们会短信通知您。")


def reservation_no_show(lang: str | None, restaurant: str, when: str) -> str:
    return _pick(
        lang,
        f"{restaurant}: We held your table for {when}. Running late? Reply C to keep it, 9 to cancel.",
        f"{restaurant}：您{when}的餐桌仍为您保留。迟到了？回复C保留，回复9取消。",
    )
