//! France's public holidays, with La Réunion's 20 December (the abolition of slavery, 1848), for
//! « Réglages » to add as closed days in one click.

use jiff::ToSpan;
use jiff::civil::Date;

/// The public holidays of `year` in La Réunion, in date order, with their French names.
pub fn public_holidays(year: i16) -> Vec<(Date, &'static str)> {
    let mut days = Vec::with_capacity(12);
    let fixed: [(i8, i8, &'static str); 9] = [
        (1, 1, "Jour de l'an"),
        (5, 1, "Fête du Travail"),
        (5, 8, "Victoire 1945"),
        (7, 14, "Fête nationale"),
        (8, 15, "Assomption"),
        (11, 1, "Toussaint"),
        (11, 11, "Armistice 1918"),
        (12, 20, "Fête de l'abolition de l'esclavage"),
        (12, 25, "Noël"),
    ];
    for (month, day, name) in fixed {
        if let Ok(date) = Date::new(year, month, day) {
            days.push((date, name));
        }
    }
    if let Some(easter) = easter_sunday(year) {
        for (after, name) in [
            (1, "Lundi de Pâques"),
            (39, "Ascension"),
            (50, "Lundi de Pentecôte"),
        ] {
            if let Ok(date) = easter.checked_add(after.days()) {
                days.push((date, name));
            }
        }
    }
    days.sort();
    days
}

/// Easter Sunday of the Gregorian calendar (the anonymous algorithm, "Meeus/Jones/Butcher").
fn easter_sunday(year: i16) -> Option<Date> {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn easter_and_the_days_that_follow_it() {
        for (year, easter) in [
            (2024, "2024-03-31"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
        ] {
            assert_eq!(easter_sunday(year).unwrap().to_string(), easter);
        }
        let days = public_holidays(2026);
        assert_eq!(days.len(), 12);
        let find = |name: &str| days.iter().find(|(_, n)| *n == name).unwrap().0.to_string();
        assert_eq!(find("Lundi de Pâques"), "2026-04-06");
        assert_eq!(find("Ascension"), "2026-05-14");
        assert_eq!(find("Lundi de Pentecôte"), "2026-05-25");
        assert_eq!(find("Fête de l'abolition de l'esclavage"), "2026-12-20");
        assert!(days.windows(2).all(|w| w[0].0 < w[1].0), "in date order");
    }
}
