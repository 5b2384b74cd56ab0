//! Text normalisation: what every pattern and every search sees instead of the raw message.
//!
//! People hide words from filters, and chat is full of shorthand. Before any matching, a message is
//! folded to plain lower-case ASCII-ish words: Unicode NFKC and lower-casing, zero-width characters
//! removed, look-alike letters from other scripts folded inside Latin words, leetspeak undone inside
//! words, spaced-out letters joined, letters repeated three or more times squeezed, a few emoji read
//! as words, and chat shorthand expanded. Apostrophes are dropped (`they'll` → `theyll`) and other
//! punctuation becomes a space, so the result is words separated by single spaces.
//!
//! The work is linear in the length of the input and allocates a handful of strings, so a megabyte
//! of hostile text is as safe as a short message.

use unicode_normalization::UnicodeNormalization;

/// The normalised form of a message: lower-case words separated by single spaces.
///
/// ```
/// assert_eq!(waymark::normalize::normalize("Sum1 s4ys th3yll p0st my n00dz!!"),
///            "someone says theyll post my nudes");
/// ```
pub fn normalize(text: &str) -> String {
    let folded = fold_characters(&mark_assault(text));
    let phrased = expand_phrases(&folded);
    let tokens = split_tokens(&phrased);
    let joined = join_spaced_letters(tokens);
    let mut out = String::with_capacity(folded.len());
    let mut previous = String::new();
    for token in joined {
        // "2" and "4" are "to" and "for" in chat, but not after "strategy", "year", "step"…
        let after_number = !previous.is_empty() && previous.chars().all(|c| c.is_ascii_digit());
        let word = if (token == "2" || token == "4") && counts_things(&previous) {
            token.clone()
        } else if after_number && matches!(token.as_str(), "yo" | "y" | "yrs" | "yr" | "yro") {
            "years old".to_string()
        } else {
            normalize_word(&token)
        };
        previous = word.rsplit(' ').next().unwrap_or("").to_string();
        for part in word.split(' ').filter(|p| !p.is_empty()) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(part);
        }
    }
    out
}

/// Words after which a digit is a number, not shorthand.
fn counts_things(previous: &str) -> bool {
    previous.is_empty()
        || previous.chars().all(|c| c.is_ascii_digit())
        || matches!(
            previous,
            "strategy"
                | "strategies"
                | "step"
                | "steps"
                | "year"
                | "years"
                | "number"
                | "no"
                | "level"
                | "part"
                | "page"
                | "chapter"
                | "grade"
                | "class"
                | "option"
                | "question"
                | "point"
                | "stage"
                | "key"
                | "ks"
                | "y"
                | "age"
                | "aged"
                | "under"
                | "over"
                | "top"
                | "room"
                | "the"
                | "only"
                | "just"
                | "about"
                | "like"
        )
}

/// "sa'd" (sexually assaulted) must be read before apostrophes are dropped, or it becomes "sad".
fn mark_assault(text: &str) -> std::borrow::Cow<'_, str> {
    let lower = text.to_lowercase();
    if !(lower.contains("sa'd")
        || lower.contains("sa’d")
        || lower.contains("s.a'd")
        || lower.contains("s.a.'d"))
    {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        lower
            .replace("s.a.'d", " sexually assaulted ")
            .replace("s.a'd", " sexually assaulted ")
            .replace("sa'd", " sexually assaulted ")
            .replace("sa’d", " sexually assaulted "),
    )
}

/// NFKC, lower case, zero-width characters removed, look-alikes folded inside Latin words, a few
/// emoji turned into words, apostrophes removed. Whitespace runs are kept (their length matters
/// for spaced-out letters).
fn fold_characters(text: &str) -> String {
    // Plain ASCII (most messages) has nothing to compose, hide or fold: the same result, faster.
    if text.is_ascii() {
        return text
            .chars()
            .filter(|&c| !matches!(c, '\'' | '`'))
            .map(|c| match c {
                c if c.is_ascii_control() && c != '\n' && c != '\t' => ' ',
                c => c.to_ascii_lowercase(),
            })
            .collect();
    }
    let mut lowered = String::with_capacity(text.len());
    for c in text.nfkc() {
        if is_invisible(c) {
            continue;
        }
        if let Some(word) = emoji_word(c) {
            lowered.push(' ');
            lowered.push_str(word);
            lowered.push(' ');
            continue;
        }
        match c {
            '\'' | '’' | '‘' | '`' | 'ʼ' | '´' => continue,
            c if c.is_control() && c != '\n' && c != '\t' => lowered.push(' '),
            c => lowered.extend(c.to_lowercase()),
        }
    }
    // Fold look-alike letters only in words that also hold Latin letters, so that a message in
    // Russian or Greek is left alone while "tоuches" (with a Cyrillic о) becomes "touches".
    let mut out = String::with_capacity(lowered.len());
    for (i, word) in lowered.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let has_latin = word.chars().any(|c| c.is_ascii_alphabetic());
        if has_latin {
            out.extend(word.chars().map(|c| confusable(c).unwrap_or(c)));
        } else {
            out.push_str(word);
        }
    }
    out
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    ) || ('\u{FE00}'..='\u{FE0F}').contains(&c)
}

/// Look-alike letters from Cyrillic and Greek that people use in place of Latin ones.
fn confusable(c: char) -> Option<char> {
    Some(match c {
        'а' | 'α' => 'a',
        'в' | 'β' => 'b',
        'с' | 'ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'ё' | 'ε' => 'e',
        'һ' => 'h',
        'і' | 'ї' | 'ι' | 'ı' => 'i',
        'ј' => 'j',
        'к' | 'κ' => 'k',
        'ӏ' => 'l',
        'м' => 'm',
        'п' | 'η' => 'n',
        'о' | 'ο' | 'σ' => 'o',
        'р' | 'ρ' => 'p',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'υ' | 'μ' => 'u',
        'ν' => 'v',
        'ш' | 'ω' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        _ => return None,
    })
}

/// Emoji that carry meaning in the messages waymark must understand.
fn emoji_word(c: char) -> Option<&'static str> {
    Some(match c {
        '🍑' => "butt",
        '🍆' => "dick",
        '📸' | '📷' => "pic",
        '📹' | '🎥' => "video",
        '💸' | '💰' | '💵' | '💷' | '💶' => "money",
        '🤫' => "secret",
        '🔪' => "knife",
        '💊' => "pills",
        '🩸' => "blood",
        '🌶' => "spicy",
        _ => return None,
    })
}

/// Multi-character shorthand that contains punctuation, replaced before tokenising.
fn expand_phrases(text: &str) -> String {
    const PHRASES: &[(&str, &str)] = &[
        ("s/h-ing", " self harming "),
        ("s/hing", " self harming "),
        ("s/h", " self harm "),
        ("sh-ing", " self harming "),
        ("w/o", " without "),
        ("w/", " with "),
        ("y/o", " years old "),
        ("b/c", " because "),
        ("a.i.", " ai "),
        ("sewer slide", " suicide "),
        ("corn link", " porn link"),
        ("corn vid", " porn vid"),
        ("corn site", " porn site"),
        ("corn pic", " porn pic"),
        ("sewer-slide", " suicide "),
    ];
    let mut out = text.to_string();
    for (from, to) in PHRASES {
        if out.contains(from) {
            out = out.replace(from, to);
        }
    }
    out
}

/// A token and the number of spaces that preceded it.
struct Token {
    text: String,
    gap: usize,
}

/// Splits on whitespace; keeps characters that can be part of an obfuscated word (`n*de`, `r@ped`,
/// `$50`, `k!ll`) and turns other punctuation into breaks.
fn split_tokens(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut gap = 0usize;
    for c in text.chars() {
        if c.is_whitespace() {
            if !current.is_empty() {
                tokens.push(Token {
                    text: std::mem::take(&mut current),
                    gap,
                });
                gap = 0;
            }
            gap += if c == '\n' { 2 } else { 1 };
        } else if c.is_alphanumeric() || matches!(c, '@' | '$' | '!' | '*' | '£' | '€' | '|') {
            current.push(c);
        } else if !current.is_empty() {
            // Other punctuation ends a word, like a single space.
            tokens.push(Token {
                text: std::mem::take(&mut current),
                gap,
            });
            gap = 1;
        } else {
            gap = gap.max(1);
        }
    }
    if !current.is_empty() {
        tokens.push(Token { text: current, gap });
    }
    tokens
}

/// Joins runs of three or more single letters separated by single spaces ("k i l l" → "kill").
/// A wider gap inside a run (up to four spaces) is a word break ("h e s  o u t" → "hes out",
/// "m y   n u d e s" → "my nudes").
fn join_spaced_letters(tokens: Vec<Token>) -> Vec<String> {
    let single =
        |t: &Token| t.text.chars().count() == 1 && t.text.chars().all(char::is_alphanumeric);
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let mut j = i;
        while j < tokens.len() && single(&tokens[j]) && (j == i || tokens[j].gap <= 4) {
            j += 1;
        }
        // "r u a robot" is chat shorthand, not a spaced-out word.
        let shorthand_only = tokens[i..j]
            .iter()
            .all(|t| matches!(t.text.as_str(), "r" | "u" | "a" | "i" | "n" | "y"));
        if j - i >= 3 && !shorthand_only {
            let mut word = String::new();
            for (k, t) in tokens[i..j].iter().enumerate() {
                if k > 0 && t.gap >= 2 {
                    out.extend(split_leading_i(std::mem::take(&mut word)));
                }
                word.push_str(&t.text);
            }
            out.extend(split_leading_i(word));
            i = j;
        } else {
            out.push(tokens[i].text.clone());
            i += 1;
        }
    }
    out
}

/// "iwant" from "i w a n t" is "i want": a spaced-out run often starts with the word "i".
fn split_leading_i(word: String) -> Vec<String> {
    const AFTER_I: &[&str] = &[
        "want", "wanna", "am", "m", "cant", "dont", "hate", "feel", "need", "will", "wish", "have",
        "got", "just", "keep", "think", "should", "might", "didnt", "wont", "was", "love", "miss",
        "cut", "hurt", "did", "tried", "took", "kill", "burn", "burnt", "burned", "cried", "sent",
        "told", "saw",
    ];
    match word.strip_prefix('i') {
        Some(rest) if AFTER_I.contains(&rest) => vec!["i".to_string(), rest.to_string()],
        _ => vec![word],
    }
}

/// One token to its normal form, possibly several words ("kms" → "kill myself").
fn normalize_word(token: &str) -> String {
    let trimmed = token.trim_matches(|c: char| matches!(c, '!' | '*' | '|' | '@'));
    if trimmed.is_empty() {
        return String::new();
    }
    if let Some(expanded) = shorthand(trimmed) {
        return expanded.to_string();
    }
    if let Some(age) = age_token(trimmed) {
        return age;
    }
    let deleeted = undo_leet(trimmed);
    let squeezed = squeeze(&deleeted);
    if let Some(expanded) = shorthand(&squeezed) {
        return expanded.to_string();
    }
    // "s0me1": leetspeak around a shorthand's own "1" (some1, any1, no1).
    if let Some(rest) = trimmed.strip_suffix('1')
        && !rest.is_empty()
        && let Some(expanded) = shorthand(&format!("{}1", undo_leet(rest)))
    {
        return expanded.to_string();
    }
    squeezed
}

/// "13yo", "14yrs" → "13 years old".
fn age_token(token: &str) -> Option<String> {
    let digits: String = token.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 3 {
        return None;
    }
    match &token[digits.len()..] {
        "yo" | "yrs" | "yr" | "y" | "yro" | "yrold" | "yearold" | "yearsold" => {
            Some(format!("{digits} years old"))
        }
        _ => None,
    }
}

/// Undoes leetspeak inside a word that mixes letters with look-alike digits or symbols.
/// Plain numbers ("15", "£200", "1am", "20mins") are left alone.
fn undo_leet(token: &str) -> String {
    let has_letter = token.chars().any(char::is_alphabetic);
    if !has_letter {
        return token.to_string();
    }
    let first_letter = token.chars().position(char::is_alphabetic).unwrap_or(0);
    // A leading number followed by a unit is a quantity ("1am", "20mins", "2nd", "£5k"), not
    // leetspeak; "0r", "1t" and "0ld3r" are leetspeak.
    let leading: String = token.chars().take(first_letter).collect();
    let unit: String = token.chars().skip(first_letter).collect();
    if !leading.is_empty()
        && leading
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '£' | '$' | '€'))
        && (is_unit(&unit) || leading.starts_with(['£', '$', '€']))
        && leading.chars().any(|c| c.is_ascii_digit())
    {
        return token.to_string();
    }
    if is_code(token) {
        return token.to_string();
    }
    let chars: Vec<char> = token
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | '!' | '|' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            '8' => 'b',
            c => c,
        })
        .collect();
    let mut out = String::with_capacity(token.len());
    for (i, &c) in chars.iter().enumerate() {
        if c != '*' {
            out.push(c);
            continue;
        }
        // A masked letter: "n*des", "r*pe", "n*d3s". Guess the vowel that makes a known word.
        let before: String = chars[..i].iter().collect();
        let after: String = chars[i + 1..].iter().collect();
        let guess = ['u', 'a', 'e', 'i', 'o']
            .into_iter()
            .find(|v| masked_word(&format!("{before}{v}{after}")));
        out.extend(guess);
    }
    out
}

/// Age groups, school years and devices written as letters and a number ("u12s", "y11",
/// "yr9", "ps5", "mp3"): names, not leetspeak.
fn is_code(token: &str) -> bool {
    let digits_at = token
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(token.len());
    let (letters, rest) = token.split_at(digits_at);
    let number = rest.strip_suffix('s').unwrap_or(rest);
    matches!(letters, "u" | "y" | "yr" | "ps" | "mp")
        && (1..=2).contains(&number.len())
        && number.chars().all(|c| c.is_ascii_digit())
}

/// Units and suffixes that follow a number.
fn is_unit(text: &str) -> bool {
    matches!(
        text,
        "am" | "pm"
            | "st"
            | "nd"
            | "rd"
            | "th"
            | "s"
            | "k"
            | "x"
            | "p"
            | "h"
            | "hr"
            | "hrs"
            | "min"
            | "mins"
            | "sec"
            | "secs"
            | "yo"
            | "yr"
            | "yrs"
            | "y"
            | "kg"
            | "km"
            | "cm"
            | "mm"
            | "ft"
            | "gb"
            | "mb"
            | "g"
            | "d"
            | "w"
            | "ish"
            | "mph"
            | "days"
            | "weeks"
            | "months"
            | "years"
            | "minutes"
            | "hours"
            | "quid"
            | "bucks"
            | "pounds"
            | "dollars"
            | "ml"
            | "l"
            | "kb"
            | "fps"
            | "v"
            | "vs"
    )
}

/// Words people mask with a `*`, for guessing the hidden letter.
fn masked_word(word: &str) -> bool {
    let base = word.trim_end_matches('s');
    matches!(
        base,
        "nude"
            | "nudie"
            | "sex"
            | "rape"
            | "raped"
            | "porn"
            | "kill"
            | "dick"
            | "pussy"
            | "cum"
            | "naked"
            | "suicide"
            | "suicidal"
            | "sexual"
            | "sexually"
            | "abuse"
            | "abused"
            | "abuser"
            | "abusing"
            | "molest"
            | "molested"
            | "assault"
            | "assaulted"
            | "groomed"
            | "grooming"
            | "touched"
    ) || matches!(word, "fuck" | "fucking" | "shit")
}

/// Squeezes letters repeated three or more times: vowels (and y, h, w) to one ("sooo" → "so",
/// "heyyy" → "hey"), other letters to two ("killl" → "kill").
fn squeeze(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let chars: Vec<char> = word.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut j = i;
        while j < chars.len() && chars[j] == c {
            j += 1;
        }
        let run = j - i;
        let keep = if run >= 3 && c.is_alphabetic() {
            if matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y' | 'h' | 'w') {
                1
            } else {
                2
            }
        } else {
            run
        };
        for _ in 0..keep {
            out.push(c);
        }
        i = j;
    }
    out
}

/// Chat shorthand, as whole words.
fn shorthand(word: &str) -> Option<&'static str> {
    Some(match word {
        "u" | "ya" | "yu" => "you",
        "r" => "are",
        "ur" | "youre" => "your",
        "rn" => "right now",
        "wud" | "wld" => "would",
        "numbr" | "numba" | "nmbr" | "numbre" => "number",
        "chidline" | "childine" | "chilline" | "childlne" | "chidlline" => "childline",
        "tawk" | "tlk" => "talk",
        "cud" | "cld" => "could",
        "shud" | "shld" => "should",
        "fr" | "frfr" => "for real",
        "pls" | "plz" | "plss" | "plez" | "pleez" | "pleas" => "please",
        "kms" => "kill myself",
        "kys" => "kill yourself",
        "unalive" => "kill",
        "sez" | "sayz" => "says",
        "goin" => "going",
        "hav" => "have",
        "ther" | "dey" => "they",
        "sewerslide" | "sewersliding" | "suicde" | "sucide" | "suicid" | "sicide" | "suiside"
        | "suicie" => "suicide",
        "sucidal" | "suicdal" | "suisidal" | "sicidal" => "suicidal",
        // Dropped g's: the words that carry a disclosure.
        "thinkin" => "thinking",
        "tryin" => "trying",
        "doin" => "doing",
        "feelin" => "feeling",
        "sayin" => "saying",
        "talkin" => "talking",
        "askin" => "asking",
        "comin" => "coming",
        "gettin" => "getting",
        "cuttin" => "cutting",
        "sendin" => "sending",
        "textin" => "texting",
        "touchin" => "touching",
        "hurtin" => "hurting",
        "threatenin" => "threatening",
        "followin" => "following",
        "nothin" => "nothing",
        "everythin" => "everything",
        "agn" | "agen" => "again",
        // Vowels dropped from the words of a threat: "he wnts mor vids".
        "wnts" | "wnats" => "wants",
        "mor" | "mre" => "more",
        "leakd" | "leekd" | "leekt" => "leaked",
        // A younger child's spelling of the words that carry a disclosure.
        "scrached" | "scrachd" | "scratcht" | "scrachted" => "scratched",
        "scrach" | "scrath" => "scratch",
        "scraching" | "scrathing" => "scratching",
        "foto" => "photo",
        "fotos" => "photos",
        "pictur" | "picshur" | "pikcher" => "picture",
        "frend" | "freind" | "fren" => "friend",
        "frends" | "freinds" | "frens" => "friends",
        "becos" | "becus" | "becuase" | "becasue" => "because",
        "evryone" | "evryon" | "everyon" => "everyone",
        "nakid" | "nakd" | "neked" => "naked",
        "tuched" | "tucht" | "touchd" => "touched",
        "tuch" => "touch",
        "tuching" => "touching",
        "compas" => "compass",
        "thru" => "through",
        "unaliving" => "killing",
        "unalived" => "killed",
        "seggs" | "secks" | "segs" | "sexx" | "seks" => "sex",
        "seggsy" | "secksy" => "sexy",
        "noodz" | "nudez" | "noods" | "nudies" | "noodes" | "nudess" | "nds" => "nudes",
        "nood" | "noodie" | "nudie" => "nude",
        "2" => "to",
        "4" => "for",
        "b4" => "before",
        "2day" => "today",
        "2nite" | "2night" | "tonite" | "tn" => "tonight",
        "2moro" | "2morrow" | "tmrw" | "tmr" | "tmrw2" => "tomorrow",
        "bf" => "boyfriend",
        "bfs" => "boyfriends",
        "gfs" => "girlfriends",
        "gf" => "girlfriend",
        "gc" => "group chat",
        "abt" | "bout" => "about",
        "sum1" | "some1" | "sumone" | "sumbody" => "someone",
        "any1" => "anyone",
        "every1" => "everyone",
        "no1" => "no one",
        "ppl" | "ppls" => "people",
        "idk" => "i dont know",
        "cuz" | "coz" | "cos" | "bc" | "bcos" | "bcuz" | "becuz" | "cause" => "because",
        "wanna" => "want to",
        "gonna" => "going to",
        "gotta" => "got to",
        "tryna" => "trying to",
        "w" => "with",
        "n" => "and",
        "wat" | "wot" | "wut" | "wht" => "what",
        "dat" => "that",
        "dis" => "this",
        "da" => "the",
        "luv" => "love",
        "msg" => "message",
        "msgs" => "messages",
        "vid" => "video",
        "vids" => "videos",
        "pix" => "pics",
        "smth" | "sth" | "sumthin" | "somethin" => "something",
        "sm" => "so much",
        "rly" | "rlly" => "really",
        "thx" | "thnx" | "ty" | "tysm" => "thanks",
        "tho" => "though",
        "irl" => "in real life",
        "atm" => "at the moment",
        "omw" => "on my way",
        "m8" => "mate",
        "gr8" => "great",
        "h8" => "hate",
        "l8r" => "later",
        "w8" => "wait",
        "sh" | "selfharm" => "self harm",
        "selfharming" => "self harming",
        "mom" | "mam" | "mommy" | "mummy" | "momma" => "mum",
        "yr" => "year",
        "yrs" => "years",
        "mins" => "minutes",
        "hrs" => "hours",
        "pic" | "pik" | "piks" => "pic",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn leetspeak_and_shorthand() {
        assert_eq!(
            normalize("s0meone s4ys th3yll p0st my n00dz unl3ss i p4y th3m"),
            "someone says theyll post my nudes unless i pay them"
        );
        assert_eq!(normalize("i w4nt 2 k1ll mys3lf"), "i want to kill myself");
        assert_eq!(
            normalize("thinking abt unaliving myself tn fr"),
            "thinking about killing myself tonight for real"
        );
        assert_eq!(normalize("my uncl3 r@ped me"), "my uncle raped me");
        // A masked letter beside leetspeak, and leetspeak around a shorthand's "1".
        assert_eq!(
            normalize("s0me1 p0st3d my n*d3s on r3dd1t"),
            "someone posted my nudes on reddit"
        );
        assert_eq!(
            normalize("n0 1 kn0ws, any1 else?"),
            "no 1 knows anyone else"
        );
        assert_eq!(
            normalize("a grown man keeps askin me 4 seggs pics on ig, im 14"),
            "a grown man keeps asking me for sex pics on ig im 14"
        );
    }

    #[test]
    fn numbers_are_not_leetspeak() {
        assert_eq!(
            normalize("hes 26, meeting at 1am for £200"),
            "hes 26 meeting at 1am for £200"
        );
        assert_eq!(normalize("this 30yo keeps"), "this 30 years old keeps");
        assert_eq!(
            normalize("h3 w4nt5 m0r3 p1c5 0r h3ll s3nd th3 0th3r5"),
            "he wants more pics or hell send the others"
        );
        assert_eq!(
            normalize("0ld3r guy 1t 20mins 2nd"),
            "older guy it 20mins 2nd"
        );
        // A currency sign with no number is a letter ("$u1c1dal").
        assert_eq!(
            normalize("feeling $u1c1dal, owes £5k"),
            "feeling suicidal owes £5k"
        );
        // Age groups, school years and consoles are names.
        assert_eq!(
            normalize("i coach u12s, a y11 boy in yr9 on his ps5"),
            "i coach u12s a y11 boy in yr9 on his ps5"
        );
        assert_eq!(normalize("a 13 y/o girl"), "a 13 years old girl");
        assert_eq!(normalize("shes 14 yo"), "shes 14 years old");
        assert_eq!(normalize("yo whats up"), "yo whats up");
        assert_eq!(
            normalize("whats strategy 4 again"),
            "whats strategy 4 again"
        );
        assert_eq!(
            normalize("mature 4 my age n wants 2 link up"),
            "mature for my age and wants to link up"
        );
    }

    #[test]
    fn spaced_letters_are_joined() {
        assert_eq!(normalize("i w a n t  t o  d i e"), "i want to die");
        assert_eq!(
            normalize("she got sa'd at a party"),
            "she got sexually assaulted at a party"
        );
        assert_eq!(normalize("im so sad"), "im so sad");
        assert_eq!(
            normalize("h e s  o u t s i d e  m y  d o o r"),
            "hes outside my door"
        );
        assert_eq!(
            normalize("i want to k i l l myself"),
            "i want to kill myself"
        );
        assert_eq!(normalize("i am ok"), "i am ok");
        // Words three spaces apart: a two-letter word inside the run is still a word.
        assert_eq!(
            normalize("s o m e o n e   p o s t e d   m y   n u d e s"),
            "someone posted my nudes"
        );
    }

    #[test]
    fn a_younger_childs_spelling_is_read() {
        assert_eq!(
            normalize("i scrached my arms with a compas agen"),
            "i scratched my arms with a compass again"
        );
        assert_eq!(
            normalize("a boy took a foto of me and sent it to his frends"),
            "a boy took a photo of me and sent it to his friends"
        );
    }

    #[test]
    fn unicode_tricks_are_folded() {
        assert_eq!(
            normalize("ｓｏｍｅｏｎｅ ｌｅａｋｅｄ ｍｙ ｎｕｄｅｓ"),
            "someone leaked my nudes"
        );
        assert_eq!(normalize("my nu\u{200b}des"), "my nudes");
        assert_eq!(normalize("t\u{043e}uches m\u{0435}"), "touches me");
        // A word wholly in another script is left alone.
        assert_eq!(normalize("Ελλάδα"), "ελλάδα");
    }

    #[test]
    fn punctuation_emoji_and_squeezing() {
        assert_eq!(
            normalize("They'll send my 🍑📸 unless i pay 💸💸"),
            "theyll send my butt pic unless i pay money money"
        );
        assert_eq!(normalize("heyyy sooo"), "hey so");
        assert_eq!(
            normalize("sum1 made a f4k3 n*de of me w A.I."),
            "someone made a fake nude of me with ai"
        );
        assert_eq!(normalize("been s/h-ing again"), "been self harming again");
        assert_eq!(
            normalize("no1 wud miss me fr"),
            "no one would miss me for real"
        );
        assert_eq!(normalize("he s*xually ab*sed me"), "he sexually abused me");
    }

    #[test]
    fn hostile_input_is_harmless() {
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("!!!***@@@"), "");
        assert_eq!(normalize("\u{0}\u{1}\u{7f}"), "");
        let long = "a".repeat(1 << 20);
        assert_eq!(normalize(&long), "a");
    }
}
