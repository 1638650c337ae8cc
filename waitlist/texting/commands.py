"""What a guest's text means: a plain parser, no I/O.

Two layers. First the keywords (``9``, ``LATE 10``, ``STOP``...), where case, spaces and punctuation are
ignored: they decide exactly as they always have. Only a text no keyword explains goes on to the
phrasings, guests' own words ("running about 10 min late", "we're outside", "还要十分钟"): see
``_phrase``. Anything neither layer understands is OTHER, a message for the host.

CANCEL alone is an opt-out keyword (carriers and Twilio treat it so), never a way to leave the list.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from waitlist.domain.join_codes import looks_like_code, read_join_code
from waitlist.domain.text import NAME_MAX, clean_line


class Intent(StrEnum):
    LEAVE = "leave"
    ON_THE_WAY = "on_the_way"
    LATE = "late"
    ARRIVED = "arrived"
    STATUS = "status"
    HELP = "help"
    STOP = "stop"
    START = "start"
    JOIN = "join"
    RATING = "rating"
    OTHER = "other"


DEFAULT_LATE_MINUTES = 10
MAX_LATE_MINUTES = 30

LEAVE_WORDS = {"9", "LEAVE", "X", "取消"}
ON_THE_WAY_WORDS = {"1", "Y", "OMW", "COMING", "ONMYWAY", "来了"}
STATUS_WORDS = {"S", "STATUS", "WHERE", "状态"}
HELP_WORDS = {"HELP", "INFO", "帮助"}
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "UNSTOP", "YES"}
RESERVATION_CONFIRM_WORDS = {"C", "YES", "确认"}
RESERVATION_CANCEL_WORDS = {"9", "X", "取消"}
"""Replies about a reservation (never CANCEL, an opt-out for carriers). YES also opts a number back in."""
RATING_WORDS = {**{str(n): n for n in range(1, 6)}, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
                **{f"{c}星": n for c, n in (("一", 1), ("二", 2), ("三", 3), ("四", 4), ("五", 5))},
                **{f"{n}星": n for n in range(1, 6)}}

_LATE_PATTERNS = [
    re.compile(r"^(?:L|LATE|RUNNINGLATE|晚到|迟到)(\d{1,3})?(?:M|MIN|MINS|MINUTE|MINUTES|分钟|分)?$"),
    re.compile(r"^(\d{1,3})(?:M|MIN|MINS|MINUTE|MINUTES|分钟|分)?(?:LATE|晚到|迟到)$"),
]
_JOIN_PATTERN = re.compile(r"^\s*(?:join|排队)\s*(\d{1,3})?\s*(.*)$", re.IGNORECASE | re.DOTALL)
_JOIN_CODE_PATTERN = re.compile(r"^(?P<keyword>(?:join|排队|加入|book|预订)\s*[:：#-]?\s*)?(?P<code>\w+)\s*[.!。！]?$",
                                re.IGNORECASE)
"""A join page's code after JOIN ("join k7q4x", "加入 K7Q4X"), or alone when it is a valid code."""


@dataclass(frozen=True)
class Command:
    intent: Intent
    minutes: int | None = None
    party_size: int | None = None
    name: str | None = None
    code: str | None = None
    """The join page's code the guest texted back (JOIN K7Q4X), upper case."""
    rating: int | None = None
    for_host: bool = False
    """The text says more than the command ("running late, can we sit outside?"): act, and let the host read it."""


def squeeze(body: str) -> str:
    """Upper-case letters and digits only: '  Late, 10 min! ' -> 'LATE10MIN'."""
    text = unicodedata.normalize("NFKC", body or "").upper()
    return "".join(ch for ch in text if ch.isalnum())


def parse(body: str) -> Command:
    """The guest's intent; anything unrecognised is OTHER (stored and shown to the host)."""
    raw = unicodedata.normalize("NFKC", body or "").strip()
    word = squeeze(raw)
    if raw == "?" or word in STATUS_WORDS:
        return Command(Intent.STATUS)
    if word in STOP_WORDS:
        return Command(Intent.STOP)
    if word in START_WORDS:
        return Command(Intent.START)
    if word in LEAVE_WORDS:
        return Command(Intent.LEAVE)
    if word in ON_THE_WAY_WORDS:
        return Command(Intent.ON_THE_WAY)
    if word in HELP_WORDS:
        return Command(Intent.HELP)
    late = _late(word)
    if late is not None:
        return late
    code = _JOIN_CODE_PATTERN.match(raw)
    if code and (looks_like_code if code.group("keyword") else read_join_code)(code.group("code")):
        return Command(Intent.JOIN, code=looks_like_code(code.group("code")))
    join = _JOIN_PATTERN.match(raw)
    if join and (join.group(1) or not join.group(2).strip() or raw.upper().startswith(("JOIN ", "排队"))):
        size = int(join.group(1)) if join.group(1) else None
        name = clean_line(join.group(2))[:NAME_MAX].rstrip() or None  # the web's rule: nothing invisible
        return Command(Intent.JOIN, party_size=size, name=name)
    if word in RATING_WORDS:
        return Command(Intent.RATING, rating=RATING_WORDS[word])
    return _phrase(raw)


def reservation_answer(body: str) -> str | None:
    """"confirm" or "cancel" when the text answers a reservation's reminder, else None."""
    word = squeeze(body)
    if word in RESERVATION_CONFIRM_WORDS:
        return "confirm"
    if word in RESERVATION_CANCEL_WORDS:
        return "cancel"
    return None


def _late(word: str) -> Command | None:
    for pattern in _LATE_PATTERNS:
        match = pattern.match(word)
        if match:
            minutes = int(match.group(1)) if match.group(1) else DEFAULT_LATE_MINUTES
            return Command(Intent.LATE, minutes=max(1, min(minutes, MAX_LATE_MINUTES)))
    return None


def rating_of(body: str) -> int | None:
    """A 1-5 rating in a feedback reply ("5", "4 stars", "五星"), else None."""
    word = squeeze(body)
    if word in RATING_WORDS:
        return RATING_WORDS[word]
    match = re.match(r"^([1-5])(?:STARS?|星)?", word)
    return int(match.group(1)) if match else None


# --- Phrasings: guests' own words ------------------------------------------------------------------------
#
# A text is cut into clauses at punctuation and at "and", "but", "so". Each clause, once greetings and
# apologies are taken off its ends, must match one phrasing *whole* (``fullmatch``): a keyword inside a
# longer sentence ("how long until we can leave the car") matches nothing. Then:
#
# * leaving needs every clause to be a clear leave ("sorry, we're not coming"): one clause it cannot
#   read, or one that says something else, and the text goes to the host instead, so no guest is taken
#   off the list by a sentence we only half understood;
# * otherwise the most pressing intent said wins (late, then arrived, then on the way, then status,
#   then help), and a clause we cannot read besides, or another request, marks the command
#   ``for_host``, so the host reads the rest ("running late, can we sit outside?");
# * a bare duration ("omw, 10 mins") only lends its minutes to a late or on-the-way clause.
#
# Numbers are read first: "ten", "half an hour", "10-15 mins" (the larger), "十分钟", "半小时".

_EN_NUMBERS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60}
_ZH_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

_REWRITES: list[tuple[re.Pattern[str], str]] = [(re.compile(pattern), replacement) for pattern, replacement in [
    (r"[‘’`´]", "'"),
    (r"\bwon'?t\b", "will not"), (r"\bcan'?t\b|\bcannot\b", "can not"),
    (r"\b(do|does|did|is|are|was|were|have|has|had|could|would|should)n'?t\b", r"\1 not"),
    (r"\bi'?m\b", "i am"), (r"\b(we|you|they)'re\b", r"\1 are"), (r"\b(i|we|you|they)'ll\b", r"\1 will"),
    (r"\b(i|we|you|they)'ve\b", r"\1 have"), (r"\b(it|that|there|what|where)'s\b", r"\1 is"),
    (r"\bwhats\b", "what is"), (r"\bwheres\b", "where is"),
    (r"\bgonna\b", "going to"), (r"\bwanna\b", "want to"), (r"\bgotta\b", "have to"),
    (r"\bpls\b|\bplz\b", "please"), (r"\bthx\b|\bty\b", "thanks"), (r"\bu\b", "you"), (r"\bur\b", "your"),
    (r"\babt\b", "about"), (r"\blil\b", "little"), (r"\bb\b", "be"),
    (r"\bhalf (?:an? )?hour\b|\ba half hour\b", "30 min"), (r"\b(?:a )?quarter (?:of an |an )?hour\b", "15 min"),
    (r"\ban? hour\b", "60 min"),
    (r"(\d)([a-z])", r"\1 \2"),
]]
_SMS_SUBJECT = re.compile(r"^(were|well|ill) (?=\w)")
"""Texting drops apostrophes: "were here", "well be late", "ill be there" start a clause as "we're"..."""
_TENS_WORDS = re.compile(r"\b(" + "|".join(_EN_TENS) + r")(?:[ -](" + "|".join(list(_EN_NUMBERS)[1:10]) + r"))?\b")
_UNIT_WORDS = re.compile(r"\b(" + "|".join(_EN_NUMBERS) + r")\b")
_RANGE = re.compile(r"(\d{1,3}) ?(?:-|to|or|/) ?(\d{1,3})")
_HOURS = re.compile(r"(\d{1,3}) ?(?:hours?|hrs?|h)\b")
_MINUTES = re.compile(r"\b(?:minutes?|mins?|mns?)\b|(?<=\d) m\b")
_ZH_TIME = re.compile(r"([零一二两三四五六七八九十]+|\d{1,3})\s*(?:个)?\s*(分钟|分|小时|钟头)")
_ZH_HALF_HOUR = re.compile(r"半个?(?:小时|钟头)|一刻钟")
_CLAUSES = re.compile(r"[,.!?;…~\n。，、！？；]+|\s+(?:and|but|so|plus|also|because|cause|cuz)\s+|\s+-\s+")

_EN_LEADING = re.compile(
    r"^(?:hi there|hey there|hi|hey|hello|hiya|yo|good evening|so sorry|very sorry|really sorry|sorry|"
    r"apologies|okay|ok|k|oh|ah|umm|um|uh|yes|yeah|yep|yup|sure|no worries|please|just a heads up|heads up|"
    r"just letting you know|letting you know|just so you know|just fyi|fyi|btw|hey guys|guys|well|actually|"
    r"thanks|thank you|unfortunately|sadly|hmm|oops)(?: |$)")
_EN_TRAILING = re.compile(
    r"(?:^| )(?:please|sorry|thanks|thank you|now|guys|lol|haha|xx+|x|ok|okay|then|already|asap|tonight|today|"
    r"again|still|unfortunately|sadly)$")
_ZH_LEADING = re.compile(r"^(?:你好|您好|不好意思|抱歉|对不起|麻烦(?:你|您)?|嗯|哦|好的|那个|喂)")
_ZH_TRAILING = re.compile(r"(?:啦|呢|吧|啊|呀|哈哈|哈|哦|喔|嘛|谢谢(?:你|您)?|多谢|抱歉|不好意思)$")

# English building blocks: a subject, a verb "to be", adverbs and hedges that change nothing.
_S = r"(?:(?:i|we|me|us|my party|our party|my group|our group|everyone|all of us|both of us) )?"
_BE = (r"(?:(?:am|are|is|will be|would be|should be|might be|may be|could be|will|be|am going to be|"
       r"are going to be|going to be|will probably be|are probably|probably) )?")
_ADV = r"(?:(?:running|a bit|a little bit|a little|a tad|slightly|little|bit|so|very|super|really|just|also|now) )*"
_ABOUT = (r"(?:(?:about|around|like|maybe|approximately|approx|roughly|probably|only|just|another|an extra|"
          r"extra|at least|at most|less than|under|within|max) )*")
_N = r"(?P<n>\d{1,3}) min(?: or so| ish)?"
_N2 = r"(?P<m>\d{1,3})(?: min)?(?: or so| ish)?"
_LIST = r"(?:the |your |this )?(?:list|waitlist|wait list|line|queue)"
_OURS = (r"(?:(?:our|my|the) (?:table|spot|place|reservation|booking|party|name|names|request|seats|waitlist spot|"
         r"spot in line|place in line)|us|me|it|ours)")
_HOLD = r"(?:it|the table|our table|my table|our spot|the spot|our place|our seats|the seats|our reservation)"
_AT_DOOR = (r"(?:here|outside|out front|in front|at the door|at the front(?: door)?|at the entrance|by the door|"
            r"at the host stand|at the front desk|in the lobby|inside|downstairs|upstairs|back|"
            r"in the parking lot|in the car park|at the restaurant|at your door)")
_S_ZH = r"(?:我们|我|咱们)?"
_N_ZH = r"(?:大概|大约|约|差不多)?(?P<n>\d{1,3})分钟(?:左右)?"

_PHRASES: list[tuple[Intent, re.Pattern[str]]] = [(intent, re.compile(pattern)) for intent, pattern in [
    # leaving the list: clear intent only
    (Intent.LEAVE, _S + r"(?:are |am |will |will be |would |shall |can |could |do |does )?not (?:be )?"
                   r"(?:coming|able to (?:come|make it)|going to (?:come|make it)|making it|make it|come|"
                   r"need(?:ing)? (?:the|a|our) table|staying|interested)"
                   r"(?: (?:anymore|any more|any longer|after all|back|tonight|in the end|sorry))*"),
    (Intent.LEAVE, _S + r"(?:are |am )?no longer (?:coming|need(?:ing)? (?:the|a|our) table|interested|waiting)"),
    (Intent.LEAVE, _S + r"(?:can not|will not|are not going to|am not going to|do not want to|are not) "
                   r"wait(?:ing)? (?:any longer|anymore|any more)"),
    (Intent.LEAVE, r"(?:can you |could you )?(?:please )?(?:remove|take|drop|delete|scratch|cross) "
                   r"(?:us|me|my name|our name|our names|our party|my party|our group)"
                   r"(?: (?:off|out|from))?(?: (?:of )?" + _LIST + r")?"),
    (Intent.LEAVE, r"(?:can you |could you )?(?:please )?(?:cancel|withdraw)(?: " + _OURS +
                   r")?(?: (?:from|on) " + _LIST + r")?"),
    (Intent.LEAVE, _S + r"(?:would like to|want to|need to|have to|will|are going to|am going to|decided to|"
                   r"have decided to|will have to|are going to have to|must|wish to|like to) "
                   r"(?:leave|cancel(?: " + _OURS + r")?|drop out|give up|pass|go elsewhere|go somewhere else|"
                   r"go home|leave " + _LIST + r"|get off " + _LIST + r")"),
    (Intent.LEAVE, r"(?:leave|get off|drop out of|take us off) " + _LIST),
    (Intent.LEAVE, _S + r"(?:have )?(?:left|went home|went elsewhere|went somewhere else|gave up|"
                   r"found (?:another|a different) (?:place|restaurant|spot)|are going (?:elsewhere|somewhere else)|"
                   r"are eating (?:elsewhere|somewhere else)|decided not to (?:wait|come|stay))"),
    (Intent.LEAVE, _S_ZH + r"(?:就|还是)?(?:不来|不过来|不去|不等|不排|不排队|不吃|不用排|不用等(?:我们|我)?|"
                   r"来不|去不|去别家|去别的地方|换一家)了*"),
    (Intent.LEAVE, r"(?:请|麻烦)?(?:帮我们?|给我们?)?取消(?:一下)?(?:排队|我们的?(?:位置|位子|号|排号|预订|预约|排队)|"
                   r"吧|了)?"),
    # running late, with the minutes when given
    (Intent.LATE, _S + _BE + _ADV + r"(?:" + _ABOUT + _N + r" )?(?:late|behind|delayed|held up)"
                  r"(?: (?:by )?" + _ABOUT + _N2 + r")?"),
    (Intent.LATE, _S + _BE + _ADV + r"(?:stuck|caught|sitting|stopped|held up|delayed) (?:in|by) "
                  r"(?:some |bad |heavy |the |a |lots of |a lot of |so much |terrible |crazy )*"
                  r"(?:traffic|traffic jam|jam|gridlock)"),
    (Intent.LATE, r"(?:(?:the )?traffic(?: is)?(?: so| very| really)? (?:bad|terrible|crazy|heavy|awful)|"
                  r"(?:bad|heavy|terrible|crazy) traffic|" + _S + r"hit (?:some |bad |heavy )?traffic)"),
    (Intent.LATE, r"(?:(?:can|could|may) (?:we|i|you) (?:please )?(?:have|get|give us|give me) |"
                  r"(?:we|i) (?:need|will need|would need|would like) |(?:please )?give us |need )?" + _ABOUT +
                  r"(?:(?P<n>\d{1,3}) (?:more|extra|additional)(?: min)?|(?P<m>\d{1,3}) min (?:more|extra|longer)|"
                  r"(?:a few |a couple (?:of )?|a little |a bit |some |few )?(?:more|extra|additional) (?:min|time))"),
    (Intent.LATE, r"(?:(?:can|could|may) (?:we|i|you) (?:please )?(?:have|get|give us|give me) |(?:please )?give us |"
                  r"(?:we|i) (?:need|would like) )?(?:another|an extra|extra|an additional) " + _N2),
    (Intent.LATE, r"(?:(?:can|could) you )?(?:please )?(?:hold|save|keep) " + _HOLD + r"(?: for (?:us|me))?"
                  r"(?: (?:for )?" + _ABOUT + _N + r")?"),
    (Intent.LATE, r"(?:(?:can|could) you )?(?:please )?wait for (?:us|me)(?: " + _ABOUT + _N + r")?"),
    (Intent.LATE, _S_ZH + r"(?:会|要|可能|可能会|大概|大概会|估计|估计会|得|应该会)?(?:晚|迟)"
                  r"(?:(?:一?点儿?|一会儿?|一些|些)(?:到|来|过来)?|到|来|过来)(?:" + _N_ZH + r")?了*"),
    (Intent.LATE, _S_ZH + r"(?:会|要|可能)?晚" + _N_ZH + r"(?:到|来)?了*"),
    (Intent.LATE, _S_ZH + r"(?:还要|还需要|还得|再等|请再等|再给我们|再给|多给我们|多等|请等|等等|等我们)(?:我们|我)?"
                  + _N_ZH),
    (Intent.LATE, r"(?:请|麻烦)?(?:帮我们|帮忙|给我们)?(?:保留|留)(?:一下)?(?:座位|位置|位子|桌子|餐桌)?(?:一下)?"),
    (Intent.LATE, _S_ZH + r"(?:在)?(?:路上)?(?:堵车|塞车|堵住|堵在路上|遇到堵车)了*"),
    # at the door
    (Intent.ARRIVED, _S + r"(?:(?:am|are|is) )?(?:(?:already|just|finally|now|all|both|waiting|standing|sitting) )*"
                     + _AT_DOOR + r"(?: (?:now|already|waiting|for (?:our|my|the) (?:table|reservation|spot)))*"),
    (Intent.ARRIVED, _S + r"(?:(?:have|had|just|finally|all) )*(?:arrived|got here|made it|checked in)"),
    (Intent.ARRIVED, _S_ZH + r"(?:已经|都|现在)?(?:到|到店|到门口|在门口|在门外|在外面|在店外|在楼下|在店门口|在前台|"
                     r"回来|到餐厅)了*"),
    # on the way, with the minutes when given
    (Intent.ON_THE_WAY, _S + _BE + _ADV + r"(?:on (?:my|our|the) way(?: (?:over|there|back|to you|in))?|omw|otw|"
                        r"heading (?:over|there|back|your way|to you|in)|headed (?:over|there|back|your way)|"
                        r"coming(?: (?:now|over|back|right now|in|soon|right over|right back))?|"
                        r"walking (?:over|back|there)|driving (?:over|there)|en route|"
                        r"(?:almost|nearly|close to|just about) (?:there|here)|close|close by|nearby|"
                        r"(?:just )?around the corner|pulling up|parking(?: the car)?|looking for parking|"
                        r"finding parking)(?: (?:eta |in )?" + _ABOUT + _N2 + r"(?: away| out)?)?"),
    (Intent.ON_THE_WAY, _S + _BE + r"(?:there|here|back|over|at the restaurant|at the door|arriving|getting there|"
                        r"getting back) (?:in|within) " + _ABOUT + _N2),
    (Intent.ON_THE_WAY, _S + r"(?:will be|will|should be|be|am going to be|are going to be|going to be) "
                        r"(?:right )?(?:there|back|over)"
                        r"(?: (?:soon|shortly|right away|in a (?:sec|second|moment|bit|few|min)))?"),
    (Intent.ON_THE_WAY, _S + _BE + _ABOUT + _N + r" (?:away|out|off|from you|from there|from the restaurant)"),
    (Intent.ON_THE_WAY, r"(?:eta|arriving|arrival)(?: is| in)? " + _ABOUT + _N2),
    (Intent.ON_THE_WAY, _S_ZH + r"(?:已经|正|正在)?(?:在路上|出发|马上到|马上来|马上过来|马上就到|快到|就到|"
                        r"快到门口|这就来|这就过来|在过来|在过来的路上|在来的路上|过来)了*"),
    (Intent.ON_THE_WAY, _S_ZH + r"(?:还有|再)?" + _N_ZH + r"(?:后|以后|内|之内)?(?:就|能)?(?:到|过来|到达)了*"),
    # questions about the wait
    (Intent.STATUS, r"where are (?:we|i)(?: (?:at|now|in (?:the )?(?:line|queue|list)|on " + _LIST + r"))*"),
    (Intent.STATUS, r"(?:what|which) (?:number|place|position|spot) (?:are we|am i)(?: in (?:the )?(?:line|queue))?"),
    (Intent.STATUS, r"what is (?:our|my) (?:position|place|spot|number)(?: in (?:the )?(?:line|queue))?"),
    (Intent.STATUS, r"how (?:much )?long(?:er)?(?: (?:is|will) (?:the wait|it be|it take|we (?:have to )?wait)|"
                    r" (?:do|will) (?:we|i) (?:have to )?wait)?(?: (?:now|still|left|about))?"),
    (Intent.STATUS, r"how many (?:more )?(?:people|parties|groups|tables|more)(?: are)?"
                    r"(?: (?:ahead of|before|in front of) (?:us|me))?"),
    (Intent.STATUS, r"(?:any|an) (?:update|news)(?: on (?:our|my|the) (?:table|wait))?|update|status"),
    (Intent.STATUS, r"(?:is|are) (?:our|my|the) tables? ready(?: yet)?|are we (?:next|close|up)(?: yet)?|"
                    r"is it (?:our|my) turn(?: yet)?|(?:what is )?the wait(?: time)?(?: like)?(?: now)?"),
    (Intent.STATUS, _S_ZH + r"(?:还要|还得|还需要|还有|要)?(?:等)?(?:多久|多长时间|多少时间)(?:啊|呀)?"),
    (Intent.STATUS, r"(?:前面)?还有(?:几|多少)(?:桌|位|个|组|人)|" + _S_ZH +
                    r"(?:现在)?(?:排(?:到|在)?|是)(?:第几(?:位|个|号|桌)?|哪(?:里|儿)?)了*|"
                    r"(?:快|轮)?到我们了?吗|(?:桌子|餐桌|位子)好了吗"),
    # a bare duration ("omw, 10 mins"): only gives the minutes to a late or on-the-way clause beside it
    (Intent.OTHER, r"(?:in |eta )?" + _ABOUT + _N + r"(?: away| out)?"),
    (Intent.OTHER, _N_ZH),
    # what to text
    (Intent.HELP, r"help(?: me)?|info|(?:what are (?:the|your) |what )?(?:commands|options)|"
                  r"what can (?:i|we) (?:text|reply|say|send)|怎么用|怎么回复"),
]]
_PRIORITY = (Intent.LATE, Intent.ARRIVED, Intent.ON_THE_WAY, Intent.STATUS, Intent.HELP)
_SUBSUMED = {Intent.LATE: {Intent.ON_THE_WAY}, Intent.ARRIVED: {Intent.ON_THE_WAY}}
"""Clauses that add nothing to the command acted on: "on my way, 10 min late" is just late."""


def _phrase(raw: str) -> Command:
    """A text in the guest's own words, read clause by clause (see the comment above)."""
    found: list[tuple[Intent, int | None]] = []
    unread = False
    for clause in _CLAUSES.split(_normalize(raw)):
        clause = _strip_fillers(_SMS_SUBJECT.sub(_spell_subject, _strip_fillers(clause.strip())))
        if not clause:
            continue
        meaning = _clause_meaning(clause)
        if meaning is None:
            unread = True
        else:
            found.append(meaning)
    durations = [minutes for intent, minutes in found if intent == Intent.OTHER and minutes is not None]
    found = [(intent, minutes) for intent, minutes in found if intent != Intent.OTHER]
    intents = {intent for intent, _ in found}
    if not intents:
        return Command(Intent.OTHER)
    if Intent.LEAVE in intents:
        return Command(Intent.LEAVE) if intents == {Intent.LEAVE} and not unread else Command(Intent.OTHER)
    chosen = next(intent for intent in _PRIORITY if intent in intents)
    said = [minutes for intent, minutes in found if intent == chosen and minutes is not None] or durations
    for_host = unread or bool(intents - {chosen} - _SUBSUMED.get(chosen, set()))
    if chosen == Intent.LATE:
        minutes = max(said) if said else DEFAULT_LATE_MINUTES
        return Command(Intent.LATE, minutes=max(1, min(minutes, MAX_LATE_MINUTES)), for_host=for_host)
    if chosen == Intent.ON_THE_WAY and said:
        return Command(Intent.ON_THE_WAY, minutes=max(1, max(said)), for_host=for_host)
    return Command(chosen, for_host=for_host)


def _spell_subject(match: re.Match[str]) -> str:
    return {"were": "we are ", "well": "we will ", "ill": "i will "}[match.group(1)]


def _clause_meaning(clause: str) -> tuple[Intent, int | None] | None:
    for intent, pattern in _PHRASES:
        match = pattern.fullmatch(clause)
        if match:
            numbers = [value for value in (match.groupdict().get("n"), match.groupdict().get("m")) if value]
            return intent, int(numbers[0]) if numbers else None
    return None


def _normalize(raw: str) -> str:
    """Lower case, contractions spelled out, numbers as digits and every duration in minutes ("10 min",
    "10分钟"), so the phrasings need one spelling each."""
    text = raw.lower()
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    text = _TENS_WORDS.sub(lambda m: str(_EN_TENS[m.group(1)] + (_EN_NUMBERS[m.group(2)] if m.group(2) else 0)), text)
    text = _UNIT_WORDS.sub(lambda m: str(_EN_NUMBERS[m.group(1)]), text)
    text = _RANGE.sub(lambda m: str(max(int(m.group(1)), int(m.group(2)))), text)
    text = _HOURS.sub(lambda m: f"{int(m.group(1)) * 60} min", text)
    text = _MINUTES.sub(" min", text)
    text = _ZH_HALF_HOUR.sub(lambda m: "15分钟" if m.group(0) == "一刻钟" else "30分钟", text)
    text = _ZH_TIME.sub(_zh_minutes, text)
    text = re.sub(r"[^\w\s,.!?;…~。，、！？；']", " ", text).replace("'", "")
    return re.sub(r"[ \t]+", " ", text)


def _zh_minutes(match: re.Match[str]) -> str:
    number = _zh_number(match.group(1))
    if number is None:
        return match.group(0)
    return f"{number * 60 if match.group(2) in ('小时', '钟头') else number}分钟"


def _zh_number(text: str) -> int | None:
    """1-99 in digits or Chinese numerals: "5", "五", "十", "十五", "二十五"; None for anything else."""
    if text.isdigit():
        return int(text)
    tens, ten, ones = text.partition("十")
    if not ten:
        tens, ones = "", text
    if len(tens) > 1 or len(ones) > 1 or any(ch not in _ZH_DIGITS for ch in tens + ones):
        return None
    if not ten:
        return _ZH_DIGITS[ones] if ones else None
    return (_ZH_DIGITS[tens] if tens else 1) * 10 + (_ZH_DIGITS[ones] if ones else 0)


def _strip_fillers(clause: str) -> str:
    """Greetings, apologies and thanks at either end say nothing about what to do."""
    while True:
        stripped = clause
        for pattern in (_EN_LEADING, _EN_TRAILING, _ZH_LEADING, _ZH_TRAILING):
            stripped = pattern.sub("", stripped).strip()
        if stripped == clause:
            return clause
        clause = stripped
