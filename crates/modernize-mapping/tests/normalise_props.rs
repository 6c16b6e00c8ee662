//! Properties of header normalisation.

use modernize_mapping::normalise;
use modernize_mapping::normalise::Unit;
use proptest::prelude::*;

/// Plain lower-case words such as people put in headers. Units and filler words are left out,
/// and so is "v", which starts product names kept whole (vCenter, vApp).
fn words() -> impl Strategy<Value = Vec<String>> {
    const SPECIAL: [&str; 24] = [
        "bytes",
        "byte",
        "kib",
        "kbytes",
        "kilobytes",
        "mib",
        "mbytes",
        "megabytes",
        "gib",
        "gbytes",
        "gigabytes",
        "tib",
        "tbytes",
        "terabytes",
        "pct",
        "percent",
        "percentage",
        "mhz",
        "ghz",
        "the",
        "according",
        "num",
        "sha",
        "ipv",
    ];
    prop::collection::vec("[a-uw-z]{3,8}", 1..5)
        .prop_filter("no unit or filler words", |ws| ws.iter().all(|w| !SPECIAL.contains(&w.as_str())))
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

proptest! {
    #[test]
    fn never_panics(header in "\\PC{0,40}") {
        let n = normalise(&header);
        prop_assert_eq!(n.compact, n.tokens.concat());
    }

    #[test]
    fn separators_do_not_matter(ws in words(), sep in prop::sample::select(vec![" ", "_", "-", ".", "/", "  "])) {
        prop_assert_eq!(normalise(&ws.join(sep)).tokens, ws.clone());
    }

    #[test]
    fn case_does_not_matter(ws in words()) {
        let header = ws.join(" ");
        prop_assert_eq!(normalise(&header.to_uppercase()).tokens, normalise(&header).tokens);
    }

    #[test]
    fn camel_case_splits_into_the_same_words(ws in words()) {
        let camel: String = ws.iter().map(|w| capitalised(w)).collect();
        prop_assert_eq!(normalise(&camel).tokens, ws.clone());
        let lower_camel = ws[0].clone() + &ws[1..].iter().map(|w| capitalised(w)).collect::<String>();
        prop_assert_eq!(normalise(&lower_camel).tokens, ws);
    }

    #[test]
    fn required_markers_are_noted_and_dropped(ws in words(), front in any::<bool>()) {
        let header = ws.join(" ");
        let marked = if front { format!("*{header}") } else { format!("{header}*") };
        let n = normalise(&marked);
        prop_assert!(n.required);
        prop_assert_eq!(n.tokens, normalise(&header).tokens);
    }

    #[test]
    fn units_are_taken_out(
        ws in words(),
        (suffix, unit) in prop::sample::select(vec![
            (" (In MB)", Unit::Megabytes), (" MiB", Unit::Megabytes), (" (GB)", Unit::Gigabytes),
            ("InGB", Unit::Gigabytes), (" GiB", Unit::Gigabytes), (" %", Unit::Percent), (" (TB)", Unit::Terabytes),
            ("_kb", Unit::Kilobytes), (" Pct", Unit::Percent), (" (MHz)", Unit::Megahertz),
        ]),
    ) {
        let n = normalise(&format!("{}{suffix}", ws.join(" ")));
        prop_assert_eq!(n.unit, Some(unit));
        prop_assert_eq!(n.tokens, ws);
    }

    #[test]
    fn numbered_members_share_a_key(ws in words(), index in 1u32..64, tail in words()) {
        let stem = &ws[0];
        let header = format!("{stem} {index} {}", tail.join(" "));
        let n = normalise(&header);
        prop_assert_eq!(n.family.map(|f| (f.stem, f.index)), Some((stem.clone(), index)));
        prop_assert_eq!(n.compact, normalise(&format!("{stem} 1 {}", tail.join(" "))).compact);
    }

    #[test]
    fn normalising_twice_changes_nothing(header in "[A-Za-z0-9 _.*()%#-]{0,40}") {
        let once = normalise(&header);
        prop_assert_eq!(normalise(&once.tokens.join(" ")).tokens, once.tokens);
    }
}
