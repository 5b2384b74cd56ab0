//! The intent rules that come after safety: commands, asking for a person, the menu, helplines,
//! greetings, and who is asking. They run on normalised text.

use std::sync::LazyLock;

use regex::{Regex, RegexSet};

fn set(patterns: &[&str]) -> RegexSet {
    // The patterns are fixed at compile time and covered by tests; an error here is a bug.
    RegexSet::new(patterns).unwrap_or_else(|e| panic!("built-in intent pattern: {e}"))
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("built-in intent pattern: {e}"))
}

/// Asking for a real person.
pub static HUMAN: LazyLock<RegexSet> = LazyLock::new(|| {
    set(&[
        r"\b(talk|speak|chat|message|text)\b.{0,20}\b(to|with)\b.{0,12}\b(real|actual|proper|live)\b.{0,10}\b(person|human|someone|people|adult)\b",
        r"\b(talk|talking|speak|speaking|chat|chatting)\b.{0,10}\b(to|with)\b.{0,6}\b(a|an|some)\b.{0,8}\b(person|human|moderator|mod|adult|staff)\b",
        r"\b(real|actual)\b.{0,8}\b(person|human|people)\b",
        r"\bnot\b.{0,6}\b(a )?(bot|robot|machine)\b",
        r"\b(get|want|need|contact|call|fetch)\b.{0,10}\b(a |the )?(moderator|mod|mods|admin|human)\b",
        r"\bsomeone\b.{0,25}\b(call|ring|phone)\b.{0,6}\bme\b",
        r"\b(call|ring|phone) me back\b",
        r"\bsomeone real\b",
        r"\b(need|want|wanna|can i (talk|speak) to|let me (talk|speak) to) (a |an )?(proper|real|actual|live) (person|human|adult)\b",
        r"^(a |the )?(mod|moderator|admin|human|person|staff|real person)( please| pls| plz| now| asap)?$",
        r"\b(speak|talk) to (someone|somebody|a person|a human|staff|a member of staff) (who|that) (actually )?(works|work) (there|here|for you|for this)\b",
        r"\b(talk|speak|chat) to (a|an) (real|actual|human|proper) (counsellor|counselor|person|human|adult|moderator|someone)\b",
        r"\bmember of (your |the )?staff\b.{0,40}\b(discuss|raise)\b",
        r"\bmember of (your|the) (\w+ )?(team|staff)\b.{0,40}\b(speak|talk|chat|discuss)\b",
        r"\b(someone|somebody|anyone|a person|a human) (from|on|in) (ur|your|the) (\w+ )?team\b.{0,30}\b(read|reply|answer|respond|look at|see|get back)\b",
        r"\b(is there|can i talk to|can i speak to) (a |an )?(person|human)\b",
        r"\bthrough with a person\b",
        r"\b(someone|somebody|anyone|a person) (on|from|in) (your|the) ([a-z]+ )?team\b.{0,40}\b(speak|talk|chat|message|call)\b",
        r"\b(one of the people|the people|someone|somebody|a person) (who|that) (run|runs|work on|works on|manage|manages|look after|looks after) (this|the bot|it|this bot|this service)\b",
        r"\bmember of (your |the )?staff\b.{0,40}\b(speak|talk|chat|message)\b|\b(speak|talk|chat)\b.{0,40}\bmember of (your |the )?staff\b",
        r"\bnot (to )?(go|talk) (through|to) (the |a |this )?(chat ?bot|bot|robot)\b",
        r"\bwith a person\b",
        r"\b(put|get|send) me (thru|through) to\b",
        r"\bconnect me\b.{0,20}\b(with|to)\b",
        r"\b(isnt|is not|not|aint) (a |an )?(bot|robot|ai|machine|computer|chat ?bot|program)\b",
        r"\b(pass|put|transfer|hand|send|switch) me (on |over |across )?(to|over to|through to) (a|an|the|some|one of (ur|your|the)) (human|person|real person|moderator|mod|adult|staff|member of staff|people|team|moderators|mods|humans)\b",
        r"\b(discuss|talk|speak|raise)\b.{0,40}\b(with|to) (one of )?(your|ur) (\w+ )?(staff|team|people|moderators|mods)\b",
        r"\b(speak|talk) (to|with) (one of )?(your|the) (safeguarding |support |welfare |pastoral )?(staff|team|people|lead|officers?)( members?)? (directly|in person|please|now)\b",
        r"\b(someone|somebody|a person|anyone) (who|that) (isnt|is not|aint|s not) (a |an )?(computer|bot|robot|ai|machine|chat ?bot|program)\b",
        r"\bmember of (your|the) (team|staff)\b.{0,40}\b(speak|talk|chat|discuss)\b",
        r"\b(prefer|rather|want) not (to )?(do|talk|go|discuss|say)( it| this| that)? (through|with|via|to|over) (a |an |the |this )?(chat ?bot|bot|computer|machine|ai)\b",
        r"\bactual(ly)? (a )?(human|person|people)\b",
        r"\b(talk to|speak to|speak with|talk with|chat to|chat with|want|need|get me|is this|are you|r u|is there) a real (one|person|human)\b",
        r"\b(is )?(anyone|anybody|someone|somebody) (actually |really )?(real|human|reading this)\b|\b(anyone|anybody|someone|somebody) (actually|really) there\b",
        r"\b(all )?automated\b",
        r"\b(mod|mods|moderator|moderators|admin|admins|staff|team|safeguarding lead|dsl)\b.{0,30}\b(dm|message|contact|call|text|talk to|speak to|get in touch|reach out|email)\b.{0,10}\b(me|us)\b",
        r"\b(talk|speak|chat|discuss this)\b.{0,20}\b(with|to)\b.{0,25}\b(mod|mods|moderator|admin|staff|member of (your |the )?staff|safeguarding lead|your team|someone from (your|the) team|a member)\b",
        r"\b(someone|somebody|a person|one of you)\b.{0,15}\b(get in touch|contact me|reach out to me|call me|message me|dm me)\b",
        r"\b(to|a) (robot|bot)\b.{0,20}\b(rather|instead)\b|\b(rather|instead)\b.{0,30}\b(person|human)\b",
        r"\b(is there|are there|is anyone|any) (a |an )?(mod|moderator|admin|staff|adult|person|human)s? (online|on|here|around|available|about|awake|in)\b",
        r"\b(is|are) (a|an|the|any|some|one of the) (mod|moderator|admin|staff member|member of staff|adult|person|human|real person)s? (online|on here|here|around|available|about|awake)\b",
        r"\binstead of (the |a |this |a stupid )?(bot|robot|ai|machine)\b",
        r"\b(is there|have you got|do you have|is) (a|an|someone|somebody|anyone) (\w+ ){0,2}(on your side|at your end|from your (team|side|end|organisation|organization))\b.{0,40}\b(speak|talk|call|ring|phone)\b",
        r"\b(can i|could i|i want to|i need to|let me|id like to|i would like to|i d like to) (speak|talk|chat) (to|with) (one of )?(the|your|ur) (leaders|youth leaders|staff|moderators|mods|team|people in charge)( instead| please| now| pls)?$",
        r"\b(dont|do not) want (the|a|this|to talk to the|to talk to a|to talk to this) (bot|robot|ai|machine|chatbot|chat bot)\b",
        r"\b(talk|speak|chat) to (a |an )?(reel|rael|reall|reeal) (person|human|one)\b",
        r"\b(discuss|raise|talk about|go through)\b.{0,50}\b(member of (your |the )?(\w+ )?(team|staff)|someone (from|in|on) (your|the) (\w+ )?team)\b|\brather than (through )?(the |this )?(chat|bot|chatbot)\b",
        r"\b(speak|talk|chat) to (someone|somebody|a person|a member|one of you) (from|in|on|of) (your|the) (\w+ )?team\b",
        r"\b(can|could|will) (a|an|one of the|some) (staff( member)?|member of staff|moderator|mod|adult|person|human|real person) (take over|step in|jump in|help me|talk to me)\b",
    ])
});

/// Asking what the bot can do, or for the menu.
pub static HELP: LazyLock<RegexSet> = LazyLock::new(|| {
    set(&[
        r"\bwhat (can|do|does|could|else can) (you|u|this|this bot|this chatbot|this chat|the chatbot|this tool|the bot|it|waymark) (actually |even |really )?(do|help with|help me with|help us with|offer|help)( for (me|us|staff|teachers|parents|schools|students|kids|young people))?( exactly| here| then)?$",
        r"\bwhat (kind|sort|type)s? of (stuff|things|questions|topics)\b.{0,20}\bask\b",
        r"\bwhat (kind|sort|type)s? of (help|support|advice|info|information) (can|does|will|could|do) (this|you|u|the|it)( bot| tool| service| chat| thing)? (give|offer|provide|do)\b",
        r"\bwhat (kind|sort|type)s? of (stuff|things|questions|topics) (can|does|will|could) (this|the|you|it)( tool| bot| service| thing| chat)? (answer|help with|do|cover|handle)\b",
        r"\bwhat (can|should) i ask\b",
        r"\bhow (can|could|will|does|would) (this|the|you|u)( bot| tool| service| chat| chatbot| thing)? help (me|us)( with anything| here| exactly)?$",
        r"\bwhat can (this|the|you|u|it)( bot| tool| service| chat| chatbot| thing)? help (families|parents|teachers|staff|schools|kids|children|young people|carers|us|me) with\b",
        r"\bwhat (can|could|would) (this|the|you|u|it)( bot| tool| service| chat| chatbot| thing)? help (me|us)( and [a-z ]{1,30})? with\b",
        r"\bwhat (do|can|should) i (type|write|say|put|press) to (see|get|show|find|open) (the |a |all the )?(topics|menu|commands|options|list|help)\b",
        r"^(help|menu|commands|options|start|topics)( please)?$",
        r"^(help|commands|command list|list of commands|what are the commands)( me| please| pls| menu)?$",
        r"^help (what|how|who) (can|do|does|are) (you|u|this|it)\b",
        r"\bhow (does|do) (this|you|it) work\b",
        r"\bwhat (are|is) (you|this bot|this|this tool)\b$",
        r"\bwho are you\b",
        r"\bhow (can|do|should|could) (i|we|staff|teachers|parents) use (this|you|it|the bot|this service|this tool|waymark|this chat)\b",
        r"\bhow (does|do|will) (this|you|it|the bot)( thing| bot| tool| chat| service)? work\b",
        r"\bwhat (topics|things|stuff|subjects|kind of things|sort of things) (do|does|can|will) (you|u|this bot|it|this|the bot|this service|this chatbot) (actually |even |really )?(cover|help with|do|talk about|answer|know about)\b",
        r"\bwhat (r|are) (u|you) (for|here for|about)\b",
        r"\bwhat (do|does|can) (you|u|this bot|the bot|this service|this tool) (cover|know about)\b",
        r"\bis (this|it|the bot|this bot|waymark) (something|a thing|a tool|a bot) (our|my|the) (\w+ )?(could|can|might|would|should) use\b",
        r"\bwhat (is|are) (the|your) commands?\b|\blist (the |of |your )?commands\b",
        r"\bwhat (sort of things |kind of things |things |stuff )?(do|can|should|would|could) (i|we|people|you|anyone) (even |actually |really )?use (this|it|you|the bot|this bot|this thing|this tool|this chatbot|the chatbot|this chat) for\b",
        r"\bwhat (is|are) (it|this|you|this bot|the bot|this tool|this thing) (able to|capable of)( do| doing)?\b|^what (is|are) (this|this bot|this tool|this thing|you) (even )?(for|good for)$",
        r"\bis this (the|a) (help|helper|support|safety|advice)? ?(bot|chat|service|line|thing)\b",
        r"^what do (you|u) do( exactly| here| then)?$|\bare (you|u) a (robot|bot|ai|machine)\b",
        r"\bwhat (sort|kind|type)s? of (things|stuff|questions) (can|could|do) (you|u|this|it)( bot| service| tool| chat| chatbot)? (help|do|answer)\b",
        r"\bwhat (this|the|your) (service|bot|tool|chat|chatbot) (offers|does|can do|provides|is for)\b",
        r"\bwhat (i can|can i|should i) ask\b|\bwhich topics (you know|do you know|can you|you cover|do you cover)\b",
        r"^what (do|can) (you|u) (actually|really|even) do( for me| for us| here| then| exactly)?$|\bwhat can (this|the|your) (bot|tool|service|chat) (help|do for) (me|us|my \w+|our \w+)( with)?\b",
        r"\bcan (this|the|you|u) ?(bot|tool|service|chat|chatbot|thing)? help (me |us |staff )?with (\w+ )?(questions|stuff|things|queries|issues)$",
        r"\bis (this|it|the bot|this bot) (just|only) for\b|\bcan (staff|teachers|parents|adults|professionals|youth workers) use (it|this|you)\b|\bwhat (sort|kind|type)s? of (questions|things|stuff) can (i|we) (use|ask) (this|it|you)\b",
    ])
});

/// Asking for a helpline, a number, or where to report.
pub static SIGNPOST: LazyLock<RegexSet> = LazyLock::new(|| {
    set(&[
        r"\b(helplines?|hotlines?|childline|child line|kids helpline|crisis line)\b",
        r"\b(number|numbers)\b.{0,20}\b(call|ring|phone|text|for|to)\b|\bphone\b.{0,10}\b(call|ring|text)\b",
        r"\bwhats the (number|helpline|line) (here|there|in)\b",
        r"\bwhats the ([a-z]+ ){1,2}(number|helpline|hotline|line) (here|there|in|for)\b",
        r"\bwho (can|could|should|do) i (message|text|call|ring|contact)\b",
        r"\b(reporting|report|abuse|crisis|support) (line|number|hotline|helpline)s?\b",
        r"\bwhere (i can|can i|could i|do i) (talk|speak|go) (to (somebody|someone|anyone)|for help)\b",
        r"\b(number|numbers|helpline|helplines|line|hotline)s? (4|for) (kids|children|teens|young people|me|students|teenagers)\b",
        r"\b(help ?line|phone line|crisis line|support line|text line)\b",
        r"\b(ayuda|ajuda|aide|hilfe|pomoc|aiuto|hulp|hjalp|apua|yardim|bantuan|tulong|numero|número|numéro|nummer|telefono|teléfono|telefone|telefon|línea|linea|lineas|ligne|linha|niños|ninos|kindertelefoon|zaufania|đường dây|hotline)\b",
        r"\b(what|which|any)\b.{0,12}\b(number|numbers)\b",
        r"\bwho (can|do|should|could) (i|you|we|someone|a kid|kids|a teen|a teenager|teens|teenagers|young people|people|children|a child)\b.{0,20}\b(call|phone|ring|text|talk to|contact|go to|reach)\b",
        r"^(\w+ ){0,4}(number|numbers|hotline|helpline)$",
        r"\b(can i|could i|where can i|how can i)\b.{0,10}\b(text|call|phone|ring)\b.{0,10}\b(someone|somebody|anyone|a helpline|instead)\b",
        r"\bwhere (do|can|should|could) (i|you|we|people|someone)\b.{0,10}\breport\b",
        r"\bhow (do|can|should|could|would) (i|you|we|u|people|someone) report\b.{0,40}\b(child abuse|abuse (images?|pics|pictures|material|videos?|content)|csam|child (porn|pornography|sexual abuse material)|illegal (images?|content|pics|videos?))\b",
        r"\b(report|reporting)\b.{0,30}\b(websites?|sites?|urls?|links?|abuse images?|abuse material)\b",
        r"\b(report|reporting) (some |the |this |any )?(csam|abuse (pics|pictures|photos|videos?)|child abuse (images?|material|pics|videos?))\b",
        r"\bis there (a|any|like a)\b.{0,20}\b(number|line|service|someone|somebody)\b",
        r"\b(emergency number|police number)\b",
        r"\bwho (would|do|can|should|could) i (even |actually )?(ring|call|phone) (here|there|in)\b",
        r"\b(youthline|youth line|lifeline|kids helpline|nummer gegen kummer|kindertelefoon|childhelp)\b",
        r"\bwho (to|do i) (call|ring|phone|contact)\b",
        r"\b(anywhere|anyone|somewhere|someone|somebody) (i|we|you|kids|teens|children|young people|people) (can|could) (call|ring|phone|text|report|get help|go for help)\b",
        r"\b(protection|abuse|crisis|support|emergency|police|kids|child|children|childrens|youth|teen) (number|numbers|hotline|phone line)\b",
        r"\b(line|number|hotline|service) (kids|children|teens|young people|i|we|you) (can|could) (call|ring|text|phone)\b",
        r"\bneed (someone|somebody|anyone) to talk to\b.{0,20}\b(im|i am|i live) in\b",
        r"\bwhere (to|do i|do you|can i|should i|can we|do we) (call|ring|phone|contact|report)\b",
        r"\b(kindertelefon|kinder und jugendtelefon|nummer gegen kummer|bantay bata|talian kasih|kids help phone|disque 100|telefono azzurro|bris|barnens hjalplinje|mannerheim)\b",
        r"\bwho can i talk to\b",
        r"\bwho (helps|can help|looks after|protects) (kids|children|teens|young people|people like me)( here| there| in \w+)?\b",
        r"\b(is there|are there|anywhere|somewhere) (somewhere|anywhere|a place|a website|a site|someone|somebody|an? (agency|organisation|organization|service))\b.{0,30}\b(to|i can|we can|you can|people can) report\b",
        r"\b(needs?|wants?) (someone|somebody|a person|an adult|a professional|a counsellor|a counselor) to talk to\b",
        r"\bwho (can|could|will) help (me|us|my (son|daughter|child|kid))( here| there| in \w+)?$",
        r"\b(is there )?(anyone|someone|somebody) (i|we) (can|could) (text|call|phone|ring|message|talk to)\b",
        r"\bwhere (can|do|should|could) (i|you|we|someone|kids|teens) (get|find) (help|support|someone to talk to)\b",
        r"\bwho (am i|are we|is someone) (meant|supposed) to (talk|speak|go|turn) to\b",
        r"\bwhat (do|can|should|could) (i|you|we|kids|children|teens|teenagers|young people|a kid|a child|people) (call|ring|phone|text)\b",
        r"\bwho (do|can|should|could) (i|we|you) (send|give|report|forward) (the |this |that |a )?(link|url|it|them|this|that|post|video|account)( to)?\b",
        r"\bwho (deals|deal) with\b.{0,40}\b(abuse|images?|pictures?|videos?|content|material|stuff|links?)\b",
        r"\bwho (do|can|should|could|would) (i|you|we|people) report\b",
        r"\b(kids|children|childrens|youth|teen|teens|child) (line|helpline|phone ?line|hotline)\b",
    ])
});

/// A moderator asking how to handle a case ("do I leave the case open"): the moderators' guidance
/// answers it, whatever helpline it mentions.
pub static CASE_HANDLING: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(the|a|this|that|my) case\b.{0,40}\b(open|close|closed|closing|resolve|resolved|claim|claimed|escalate|reopen|hand over|handover)\b|\b(close|resolve|claim|reopen|leave) (the|a|this|that) case\b",
    )
});

/// "Who should I talk to if…", "…at school": asking whom to trust with something, which the
/// guidance on telling someone answers; not a helpline request unless it names a helpline, a
/// number, a call or a country.
pub static WHOM_TO_TELL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\bwho (can|should|do|could) i (talk|speak|go|turn) to (at school|in school|at home|if|when)\b",
    )
});

/// Words that make a message about whom to tell a helpline request after all.
pub static HELPLINE_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(helplines?|hotlines?|numbers?|call|ring|phone|text|report|line|childline|emergency|police)\b",
    )
});

/// Asking where to report abuse material (signposted to `reporting-services`).
pub static REPORTING: LazyLock<RegexSet> = LazyLock::new(|| {
    set(&[
        r"\breports?\b.{0,30}\b(websites?|sites?|urls?|links?|abuse images?|abuse material|csam|child abuse|exploitation)\b",
        r"\b(ceop|cybertipline|cybertip|ncmec|iwf|take it down|report remove|inhope|esafety)\b",
        r"\bwhere (do|can|should|could) (i|you|we|people|someone)\b.{0,10}\breport\b",
        r"\bhow (do|can|should|could|would) (i|you|we|u|people|someone) report\b.{0,40}\b(child abuse|abuse (images?|pics|pictures|material|videos?|content)|csam|child (porn|pornography|sexual abuse material)|illegal (images?|content|pics|videos?))\b",
        r"\bwho (do|can|should|could) (i|we|you) (send|give|report|forward) (the |this |that |a )?(link|url|post|video|account)( to)?\b",
        r"\bwho (deals|deal) with\b.{0,40}\b(abuse|images?|pictures?|videos?|content|material|links?)\b",
        r"\bwho (do|can|should|could|would) (i|you|we|people) report\b.{0,40}\b(abuse|exploitation|images?|pictures?|videos?|content|material|stuff|links?)\b",
    ])
});

/// Greetings and small talk that need only a short reply.
pub static GREETING: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(hi|hey|heya|hiya|hello|helo|yo|sup|wassup|whats up|hola|salam|salaam|assalamu alaikum|namaste|bonjour|hallo|ciao|hej|morning|good (morning|afternoon|evening)|ok|okay|k|kk|cool|lol|lmao|thanks|thank you|thank u|thanks so much|cheers|ta|bye|goodbye|bye bye|cya|see you|see ya|later|night|gn|ok bye|ok thanks|ok thank you|thanks bye|alright|nice)\b",
    )
});

/// Words that may surround a greeting without making the message about something else.
pub const GREETING_FILLER: &[&str] = &[
    "hi",
    "hey",
    "heya",
    "hiya",
    "hello",
    "helo",
    "yo",
    "sup",
    "wassup",
    "whats",
    "up",
    "hola",
    "salam",
    "salaam",
    "namaste",
    "bonjour",
    "hallo",
    "ciao",
    "hej",
    "useful",
    "tbh",
    "x",
    "xx",
    "xxx",
    "morning",
    "good",
    "afternoon",
    "evening",
    "night",
    "ok",
    "okay",
    "k",
    "kk",
    "cool",
    "lol",
    "lmao",
    "haha",
    "thanks",
    "thank",
    "you",
    "so",
    "much",
    "cheers",
    "ta",
    "bye",
    "goodbye",
    "cya",
    "see",
    "ya",
    "later",
    "gn",
    "alright",
    "nice",
    "gtg",
    "got",
    "to",
    "go",
    "gotta",
    "ty",
    "thx",
    "that",
    "actually",
    "really",
    "helped",
    "helpful",
    "great",
    "awesome",
    "it",
    "now",
    "again",
    "all",
    "guys",
    "there",
    "everyone",
    "mate",
    "bro",
    "just",
    "well",
    "then",
    "anyway",
    "for",
    "the",
    "a",
    "bot",
    "waymark",
    "im",
    "off",
    "done",
    "fine",
    "sure",
    "yes",
    "yeah",
    "yep",
    "no",
    "nope",
    "hmm",
    "oh",
    "ah",
];

/// Courtesies that do not make a greeting, a thank-you or a goodbye into a question: "good
/// evening, i hope you are well", "thanks, i think i know what to do now".
pub static COURTESY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(i )?hope (you are|youre|you re|ur|u r|all is|everything is|your day is|youve had|you have had|you had) (well|good|ok|okay|fine|doing well|going well|a good (day|night|evening|week|weekend))\b|\bhow are (you|u|ya)( doing| today| all)?\b|\bhave a (good|nice|great|lovely) (day|night|evening|weekend)\b|\bi (think i )?know what to do now\b|\b(that|this|it|you) (really )?(helps|helped)\b|\bgood ?night\b|\bsleep well\b|\b(did not|didnt) expect (that|this) from a (bot|chatbot|robot)\b|\b(thats|that is|this is|that was|it was) (really |so |very |actually )?(reassuring|helpful|useful|kind)\b|\bthanks? (you )?for listening\b|\b(thats|that is|that was|thats literally) (everything|all|exactly what|just what) (i|we) (needed|wanted|need|was after)\b|\b(its )?(my )?first time (i (use|used|am using|m using|try|tried|have used|ve used) |using |here|on here|trying )(this|it|this bot)?\b|\b(it |that |this )?means (a lot|so much|the world)( to me)?\b|\bmuch appreciated\b|\bthanks? (you )?for (the|all the|your|ur) help\b|\b(thats|that has|that|this has|this) (sorted|fixed|solved) (it|things|everything)\b|\ball sorted\b|\b(i )?(really )?appreciate (it|that|this|you)( so much| a lot| loads)?\b|\b(my )?(mum|mums|mom|moms|dad|dads|parents|nan|nans|gran|grans) (is |s |are )?(calling|shouting|here|home|calling me|shouting me)\b|\b(i will|ill|i ll|im going to|im gonna|gonna|i am going to) (call|ring|text|phone|contact|message) (them|it|that number|the number|the helpline|childline|her|him)( tomorrow| today| tonight| later| now| in the morning| after school)?\b|\b(i will|ill|i ll|im gonna|gonna|i am going to|im going to|going to|will) (try|give) (that|it|this|those|them)( a go| out| a try)?( now| tomorrow| later| tonight)?\b|\b(im|i am|ill|i will) (going to |gonna )?(tell|talk to|speak to) (my|a|the) \w+( \w+)? (tomorrow|today|tonight|later|in the morning|on monday|after school)\b|\b(gonna|going to|off to) (go )?(tell|talk to|speak to) (my|a|the) \w+( now| tomorrow| later| tonight)?\b",
    )
});

/// Naming a framework or strategy: a practitioner's question about it is guidance, even when it
/// mentions helplines ("what does the UNICEF framework say about helplines and counselling").
pub static FRAMEWORK: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(unicefs?|inspire|itu|framework|six strategies|strategy (\d|one|two|three|four|five|six)|weprotect|model national response|guidelines)\b",
    )
});

/// Thanking.
pub static THANKS: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(thanks|thank you|thank u|cheers|ta|helped|helpful)\b"));

/// Leaving.
pub static GOODBYE: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(bye|goodbye|cya|see you|see ya|later|night|gn|gtg|got to go)\b"));

/// Words that keep a short message from being only a greeting.
pub static SUBSTANCE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(what|how|why|who|where|when|can|could|should|is|are|do|does|help|need|my|someone|he|she|they|pic|pics|nudes|report|block)\b",
    )
});

/// Someone who writes as a practitioner or a parent.
pub static PRACTITIONER: LazyLock<RegexSet> = LazyLock::new(|| {
    set(&[
        r"\b(teacher|social worker|youth worker|youth club leader|club leader|dsl|designated safeguarding|safeguarding lead|headteacher|head teacher|school nurse|counsellor|counselor|practitioner|caseworker|foster carer|residential home|support worker|coach here|scout leader)\b.{0,40}\b(here|i am|im)\b",
        r"\b(i am|im|as) (a|an|the) ([a-z]+ )?(teacher|social worker|youth worker|dsl|safeguarding lead|headteacher|nurse|counsellor|practitioner|leader|coach|tutor|mentor|parent|mum|dad|carer|foster carer|volunteer)\b",
        r"^(teacher|social worker|youth worker|dsl|youth club leader|safeguarding lead|practitioner|parent)\b",
        r"\b(my|our) (pupils?|students|year \d+s?|caseload|service users?|young people|members|staff|setting|school s|residential home|club members)\b",
        r"\bone of my (year \d+s?|pupils|students|young people|kids)\b",
        r"\b(on my caseload|our staff|inset day|pshe|rshe|safeguarding policy|safeguarding procedure|case report|our safeguarding|my school s safeguarding)\b",
        r"\b(a|the) (pupil|student)\b.{0,30}\b(told|disclosed|came to)\b",
        r"\b(edtech|ed tech|startup|start up|tech company|trust and safety|trust safety|our (platform|product|company|startup))\b",
        r"\bour (\w+ ){0,2}(technicians?|employees|colleagues|volunteers)\b|\bif a (mod|moderator)\b|\bour (\w+ ){0,2}(charity|organisation|organization|ngo)\b",
        r"\b(building|developing|making|we build|we make|designing) (a|an|our) (\w+ ){0,2}(app|platform|game|website|service)\b.{0,40}\b(guidelines|guidance|expect|required|requirements|cop|child online protection|safety by design)\b",
        r"\bi (coach|manage|run|teach|lead|help run|volunteer (at|with|for)) (a |an |the |our |my )?(u ?\d+s?|under \d+s|juniors?|(junior |youth |kids |girls |boys )?(football|rugby|netball|hockey|cricket|swim|swimming|dance|drama|scout|guide|youth|sports?|chess|coding|athletics|gymnastics|basketball) (club|team|group|squad|class))\b",
    ])
});

/// Talking about someone else (a friend, a sibling): the worried-friend entry comes first.
pub static THIRD_PARTY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(my|a|our) (friend|friends|best friend|bestie|best mate|mate|mates|bro|brother|little brother|sister|little sister|cousin|classmate)\b.{0,60}\b(is|was|has|told|said|got|being|keeps|shes|hes|talks|wont|doesnt|just)\b|\b(she|he) told me\b",
    )
});

/// A question or a request for advice.
pub static QUESTION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(what|whats|how|hows|why|when|where|who|whos|which|is|are|am|can|could|should|would|will|do|does|did|any|tips|advice|help|explain|tell me|give me|show me|list|summarise|summarize|describe|outline|define|remind me)\b|\b(do|does|did|can|could|would|will|is|are|should|shall) (you|it|they|he|she|i|we|that|this|there|people|someone|anyone)\b|\b(what|whats|how|hows|why|can i|can you|could i|should i|should we|do i|do we|is it|is that|is this|are there|any (advice|tips|ideas)|need (to|help|advice)|want to know|wondering|not sure|help me|what to do|meaning of|mean|difference|overview|signs)\b|^(ways|how) to\b|\b(need|want|give me|can i get|looking for) (a |an )?(short |quick |brief |simple )?(summary|overview|rundown|explanation)\b|\bany (\w+ )?(advice|tips|ideas|suggestions)\b|\b(forgot|forgotten|cant remember|dont remember|remind me)\b",
    )
});

/// Moderator commands (after `!`). `close` is another name for `resolve`.
pub const MODERATOR_COMMANDS: &[&str] = &[
    "cases", "case", "claim", "note", "reply", "resolve", "close", "reopen",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_patterns_compile() {
        for s in [&*HUMAN, &*HELP, &*SIGNPOST, &*REPORTING, &*PRACTITIONER] {
            assert!(!s.is_empty());
        }
        for r in [
            &*GREETING,
            &*THANKS,
            &*GOODBYE,
            &*SUBSTANCE,
            &*THIRD_PARTY,
            &*COURTESY,
            &*FRAMEWORK,
        ] {
            assert!(!r.as_str().is_empty());
        }
    }

    #[test]
    fn asking_what_the_bot_helps_with_is_help() {
        assert!(
            HELP.is_match("hello im a youth worker can this bot help with safeguarding questions")
        );
        assert!(HELP.is_match("can you help with questions"));
        // A named topic is a question to answer, not a question about the bot.
        assert!(!HELP.is_match("can you help with questions about grooming"));
        assert!(
            HUMAN.is_match("need a proper person to talk to this is too much to type to a bot")
        );
        assert!(HELP.is_match("im a parent what can this chatbot help me with"));
        assert!(HELP.is_match("what topics do u actually cover"));
        assert!(HELP.is_match("hi im new here what r u for"));
        assert!(COURTESY.is_match("cheers thats everything i needed x"));
    }

    #[test]
    fn practitioners_are_recognised() {
        assert!(PRACTITIONER.is_match("teacher here planning a pshe lesson on sextortion"));
        assert!(PRACTITIONER.is_match("social worker 7yo in a foster placement"));
        assert!(!PRACTITIONER.is_match("our tutor said were having a talk on grooming next week"));
    }
}
