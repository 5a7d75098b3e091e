//! What a reader with a pseudonymised grant (the analyst role) sees of records about
//! people, decided here and nowhere else.
//!
//! The rule, as docs/api.md states it for integrators:
//!
//! - A young person is named by a keyed pseudonym (`p-` and 24 hex digits) only; id,
//!   name, CPR number and birth date are withheld. The pseudonym is the same in every
//!   answer that shows the person: their case and every list.
//! - A staff member is named by a keyed staff pseudonym (`s-` and 24 hex digits) wherever
//!   a staff id would appear, and staff names are withheld: the matrix gives analysts no
//!   `read staff`, and an id would let anyone holding a staff list put a name to it.
//!   Analysts pass the staff pseudonym where an argument names a staff member. What an
//!   analyst learns about staff is a workload: department, cases, capacity.
//! - Every date in a record about one person (a due date, the day an alarm opened, a team
//!   move, membership since, a referral, a plan action) is coarsened to the first day of
//!   its month; the field keeps its type. Many of these dates follow from the birth date
//!   (an alarm due on the 18th birthday, a team move on it, a deadline at the 17th), so a
//!   day beside a pseudonym would give the birthday away.
//!   Dates that describe the report (`asOf`) or a group (a team's last and next meeting,
//!   the months of statistics) are not about one person and stay exact.
//!   Two dates of one record a fixed day apart are coarsened together: an alarm that
//!   opens the day after it falls due shows as opening in the month it fell due, since
//!   coarsening each on its own would show where a month ends.
//! - Dates an analyst chooses are taken by the month as well: `alarms(asOf:)` and
//!   `statistics(asOf:)` are read as the last day of their month, and
//!   `teams(withinDays:)` reaches to the end of a month, so that stepping a date a day at
//!   a time shows nothing a month does not.
//! - Lists of people are ordered by pseudonym, after the month where the list is ordered
//!   by date, so a row's position reveals neither the alphabetical rank of a name nor the
//!   day of a date. Offsets into such a list (cursors, limits) count in that order.
//!
//! The rule is about what an answer shows: what changes on a birthday (the recorded 18th
//! birthday, a team handover, an age, an alarm) changes that day for every reader, so an
//! analyst who asks daily can still tell the day (docs/api.md says so).
//!
//! Every other grant sees records as they are. The pseudonyms are HMAC-SHA256 keyed with
//! the key store's pseudonym secret (not the token secret: rotating a leaked token secret
//! changes no pseudonym). A young person's is computed from their own key, so it cannot be
//! recomputed from their id, and not at all once they are erased: an erased person shows
//! as `p-erased`.

use async_graphql::ID;
use chrono::{Datelike, Days, Months, NaiveDate};
use kui_domain::{StaffId, YouthId};
use kui_engine::keys::KeyStore;

use crate::access::{grant, Grant, Operation, Scope};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::ApiState;

/// Hex digits of the digest a pseudonym keeps: 96 bits, plenty to tell people apart.
const PSEUDONYM_HEX: usize = 24;

/// How much of a record about people a reader may see.
#[derive(Clone, Copy)]
pub(crate) struct Disclosure<'a> {
    keys: &'a KeyStore,
    scope: Scope,
    pseudonymise: bool,
}

impl<'a> Disclosure<'a> {
    /// The disclosure for a reader acting in `scope` on `state`'s server secret.
    pub(crate) fn new(state: &'a ApiState, scope: Scope) -> Disclosure<'a> {
        Disclosure::keyed(state.engine.keys(), scope)
    }

    /// The disclosure for `principal` on a question every role may ask (statistics):
    /// pseudonymised for the roles the matrix gives pseudonymised cases.
    pub(crate) fn for_principal(state: &'a ApiState, principal: &Principal) -> Disclosure<'a> {
        let scope = match grant(principal.role, Operation::ReadCase) {
            Grant::Pseudo => Scope::Pseudonymised,
            Grant::Own | Grant::All | Grant::Deny => Scope::Everywhere,
        };
        Disclosure::new(state, scope)
    }

    /// The disclosure for a reader acting in `scope`, with the pseudonyms keyed by `keys`.
    pub(crate) fn keyed(keys: &'a KeyStore, scope: Scope) -> Disclosure<'a> {
        Disclosure {
            keys,
            scope,
            pseudonymise: scope == Scope::Pseudonymised,
        }
    }

    /// The scope the reader acts in, for what is worked out later (a case's alarms).
    pub(crate) fn scope(self) -> Scope {
        self.scope
    }

    /// `value`, or nothing for a pseudonymised reader: for ids, names, CPR numbers, birth
    /// dates and free text.
    pub(crate) fn personal<T>(self, value: Option<T>) -> Option<T> {
        if self.pseudonymise {
            None
        } else {
            value
        }
    }

    /// The young person's pseudonym; every role may see it, so that analysts and case
    /// workers can talk about the same row without naming the person.
    pub(crate) fn youth_pseudonym(self, youth: YouthId) -> String {
        match self.keys.youth_pseudonym(youth) {
            Some(digest) => pseudonym("p-", &digest),
            None => "p-erased".to_owned(),
        }
    }

    /// The staff member's pseudonym, apart from every young person's (another prefix and
    /// subject).
    pub(crate) fn staff_pseudonym(self, staff: StaffId) -> String {
        pseudonym("s-", &self.keys.pseudonym(format!("staff:{}", staff.0).as_bytes()))
    }

    /// A staff member as the reader may name them: the id, or the staff pseudonym.
    pub(crate) fn staff(self, staff: StaffId) -> ID {
        if self.pseudonymise {
            ID(self.staff_pseudonym(staff))
        } else {
            ID(staff.to_string())
        }
    }

    /// Reads an argument that names a staff member the way the reader names staff: a
    /// staff id, or for a pseudonymised reader a staff pseudonym. `INVALID_INPUT` naming
    /// `field` otherwise.
    pub(crate) fn staff_argument(self, argument: &ID, field: &str) -> Result<StaffArgument, ApiError> {
        if !self.pseudonymise {
            return crate::graphql::parse_id::<StaffId>(argument, field).map(StaffArgument::Id);
        }
        if is_pseudonym(&argument.0, "s-") {
            Ok(StaffArgument::Pseudonym(argument.0.clone()))
        } else {
            Err(ApiError::invalid(field, "analysts name staff by their staff pseudonym"))
        }
    }

    /// A list of staff members in the order the reader may see: the list's own for
    /// readers who see ids; for a pseudonymised reader by `key`'s first part (what the
    /// list is ordered by), then by staff pseudonym.
    pub(crate) fn staff_ordered<T, K: Ord>(self, rows: &[T], key: impl Fn(&T) -> (K, StaffId)) -> Vec<&T> {
        let mut rows: Vec<&T> = rows.iter().collect();
        if self.pseudonymise {
            rows.sort_by_cached_key(|row| {
                let (first, staff) = key(row);
                (first, self.staff_pseudonym(staff))
            });
        }
        rows
    }

    /// A date in a record about one person as the reader may see it: exact, or the first
    /// day of its month.
    pub(crate) fn date(self, date: NaiveDate) -> NaiveDate {
        if self.pseudonymise {
            first_of_month(date)
        } else {
            date
        }
    }

    /// [`Disclosure::date`] of an optional date.
    pub(crate) fn date_opt(self, date: Option<NaiveDate>) -> Option<NaiveDate> {
        date.map(|date| self.date(date))
    }

    /// `date`, which may lie just after `bound` in the same record (an alarm opens the day
    /// after it falls due), as the reader may see it: exact, or the month of the earlier
    /// of the two. Coarsened on its own, a date one day after the last of a month would
    /// show in the next month and give that day away.
    pub(crate) fn date_not_after(self, date: NaiveDate, bound: NaiveDate) -> NaiveDate {
        if self.pseudonymise {
            first_of_month(date.min(bound))
        } else {
            date
        }
    }

    /// A report date the reader chose, as the report is computed for them: as given, or
    /// the last day of its month (a month as it ended, the way reports are read), so that
    /// asking day after day about the same month gives the same answer.
    pub(crate) fn as_of(self, date: NaiveDate) -> NaiveDate {
        if self.pseudonymise {
            last_of_month(date)
        } else {
            date
        }
    }

    /// A window of `within_days` from `today` the reader chose: as given, or stretched to
    /// the last day of the month it ends in, so that widening it a day at a time shows
    /// nothing a month does not.
    pub(crate) fn window_days(self, today: NaiveDate, within_days: u32) -> u32 {
        if !self.pseudonymise {
            return within_days;
        }
        today
            .checked_add_days(Days::new(u64::from(within_days)))
            .map(last_of_month)
            .and_then(|end| u32::try_from((end - today).num_days()).ok())
            .unwrap_or(within_days)
    }

    /// Puts a list of people in the order the reader may see. Readers who see names keep
    /// the list's own order (by name, or by date); a pseudonymised reader gets the rows by
    /// the month of `key`'s date (for lists ordered by date), then by pseudonym, then by
    /// `key`'s tie-breaker.
    pub(crate) fn order<T, K: Ord>(self, rows: &mut [T], key: impl Fn(&T) -> (Option<NaiveDate>, YouthId, K)) {
        if !self.pseudonymise {
            return;
        }
        rows.sort_by_cached_key(|row| {
            let (date, youth, tie) = key(row);
            (date.map(first_of_month), self.youth_pseudonym(youth), tie)
        });
    }

    /// [`Disclosure::order`] for a list the caller only borrows.
    pub(crate) fn ordered<T, K: Ord>(self, rows: &[T], key: impl Fn(&T) -> (Option<NaiveDate>, YouthId, K)) -> Vec<&T> {
        let mut rows: Vec<&T> = rows.iter().collect();
        self.order(&mut rows, |row| key(row));
        rows
    }
}

/// A staff member named in an argument, as [`Disclosure::staff_argument`] read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StaffArgument {
    /// By id.
    Id(StaffId),
    /// By staff pseudonym: found only by comparing it with the pseudonyms of known staff.
    Pseudonym(String),
}

impl StaffArgument {
    /// The staff member meant, among `known` for a pseudonym (`None`: nobody there has it).
    /// An id is taken as given: whether it is known is the caller's question.
    pub(crate) fn resolve(
        &self,
        disclosure: Disclosure<'_>,
        known: impl IntoIterator<Item = StaffId>,
    ) -> Option<StaffId> {
        match self {
            StaffArgument::Id(staff) => Some(*staff),
            StaffArgument::Pseudonym(pseudonym) => known
                .into_iter()
                .find(|staff| disclosure.staff_pseudonym(*staff) == *pseudonym),
        }
    }

    /// What the argument names, for `NOT_FOUND` messages and cache keys.
    pub(crate) fn label(&self) -> String {
        match self {
            StaffArgument::Id(staff) => staff.to_string(),
            StaffArgument::Pseudonym(pseudonym) => pseudonym.clone(),
        }
    }
}

fn is_pseudonym(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix).is_some_and(|hex| {
        hex.len() == PSEUDONYM_HEX && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).expect("every month has a first day")
}

/// The last day of `date`'s month; `date` itself in the last month chrono can represent.
fn last_of_month(date: NaiveDate) -> NaiveDate {
    first_of_month(date)
        .checked_add_months(Months::new(1))
        .and_then(|next_month| next_month.pred_opt())
        .unwrap_or(date)
}

/// `prefix` and the first hex digits of a keyed digest.
fn pseudonym(prefix: &str, digest: &[u8; 32]) -> String {
    let mut text = String::with_capacity(prefix.len() + PSEUDONYM_HEX);
    text.push_str(prefix);
    for byte in digest.iter().take(PSEUDONYM_HEX / 2) {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    static KEYS: std::sync::LazyLock<KeyStore> = std::sync::LazyLock::new(|| KeyStore::seeded(1));

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a valid test date")
    }

    #[test]
    fn dates_a_day_apart_are_coarsened_together() {
        let analyst = Disclosure::keyed(&KEYS, Scope::Pseudonymised);
        // Due on the last day of February, opened on the first of March.
        assert_eq!(
            analyst.date_not_after(day(2026, 3, 1), day(2026, 2, 28)),
            day(2026, 2, 1)
        );
        // Opened six months before it falls due.
        assert_eq!(
            analyst.date_not_after(day(2025, 9, 17), day(2026, 3, 17)),
            day(2025, 9, 1)
        );
        let auditor = Disclosure::keyed(&KEYS, Scope::Everywhere);
        assert_eq!(
            auditor.date_not_after(day(2026, 3, 1), day(2026, 2, 28)),
            day(2026, 3, 1)
        );
    }

    #[test]
    fn dates_analysts_choose_are_taken_by_the_month() {
        let analyst = Disclosure::keyed(&KEYS, Scope::Pseudonymised);
        let auditor = Disclosure::keyed(&KEYS, Scope::Everywhere);
        assert_eq!(analyst.as_of(day(2026, 3, 16)), day(2026, 3, 31));
        assert_eq!(analyst.as_of(day(2024, 2, 1)), day(2024, 2, 29));
        assert_eq!(analyst.as_of(day(2026, 12, 31)), day(2026, 12, 31));
        assert_eq!(auditor.as_of(day(2026, 3, 16)), day(2026, 3, 16));
        let today = day(2026, 1, 15);
        // 15 January + 60 days is 16 March: the window reaches to 31 March.
        for within in [60, 61, 75] {
            assert_eq!(analyst.window_days(today, within), 75, "{within}");
        }
        assert_eq!(analyst.window_days(today, 0), 16);
        assert_eq!(auditor.window_days(today, 60), 60);
    }

    #[test]
    fn analysts_see_dates_by_month_and_others_exactly() {
        let analyst = Disclosure::keyed(&KEYS, Scope::Pseudonymised);
        let auditor = Disclosure::keyed(&KEYS, Scope::Everywhere);
        assert_eq!(analyst.date(day(2026, 3, 17)), day(2026, 3, 1));
        assert_eq!(analyst.date(day(2024, 2, 29)), day(2024, 2, 1));
        assert_eq!(analyst.date(day(2026, 12, 31)), day(2026, 12, 1));
        assert_eq!(analyst.date_opt(None), None);
        assert_eq!(auditor.date(day(2026, 3, 17)), day(2026, 3, 17));
        assert_eq!(auditor.date_opt(Some(day(2026, 3, 17))), Some(day(2026, 3, 17)));
    }

    #[test]
    fn analysts_get_lists_by_month_then_pseudonym_and_others_as_they_were() {
        let youth = |n: u128| YouthId(uuid::Uuid::from_u128(n));
        let analyst = Disclosure::keyed(&KEYS, Scope::Pseudonymised);
        let mut rows: Vec<(NaiveDate, YouthId)> =
            (1..=20u32).map(|n| (day(2026, 3, 28 - n), youth(n.into()))).collect();
        rows.push((day(2026, 2, 28), youth(99)));
        let before = rows.clone();
        Disclosure::keyed(&KEYS, Scope::Everywhere).order(&mut rows, |&(on, who)| (Some(on), who, ()));
        assert_eq!(rows, before, "other readers keep the list's order");
        analyst.order(&mut rows, |&(on, who)| (Some(on), who, ()));
        assert_eq!(rows[0].1, youth(99), "February before March");
        let march: Vec<String> = rows[1..].iter().map(|(_, who)| analyst.youth_pseudonym(*who)).collect();
        let mut sorted = march.clone();
        sorted.sort();
        assert_eq!(march, sorted, "within a month, by pseudonym");
    }

    #[test]
    fn analysts_name_staff_by_pseudonym_in_answers_and_arguments() {
        let analyst = Disclosure::keyed(&KEYS, Scope::Pseudonymised);
        let auditor = Disclosure::keyed(&KEYS, Scope::Everywhere);
        let known = [StaffId(uuid::Uuid::from_u128(1)), StaffId(uuid::Uuid::from_u128(2))];
        let pseudonym = analyst.staff_pseudonym(known[1]);
        assert!(is_pseudonym(&pseudonym, "s-"), "{pseudonym}");
        assert_eq!(analyst.staff(known[1]), ID(pseudonym.clone()));
        assert_eq!(auditor.staff(known[1]), ID(known[1].to_string()));
        assert_ne!(pseudonym[2..], analyst.youth_pseudonym(YouthId(known[1].0))[2..]);

        let wanted = analyst.staff_argument(&ID(pseudonym), "staff").ok();
        assert_eq!(wanted.and_then(|w| w.resolve(analyst, known)), Some(known[1]));
        let stranger = analyst.staff_pseudonym(StaffId(uuid::Uuid::from_u128(3)));
        let unknown = analyst.staff_argument(&ID(stranger), "staff").ok();
        assert_eq!(unknown.map(|u| u.resolve(analyst, known)), Some(None));
        let by_id = ID(known[0].to_string());
        assert!(matches!(
            analyst.staff_argument(&by_id, "staff"),
            Err(ApiError::InvalidInput { .. })
        ));
        let as_given = auditor.staff_argument(&by_id, "staff").ok();
        assert_eq!(as_given.and_then(|a| a.resolve(auditor, [])), Some(known[0]));
        assert!(auditor.staff_argument(&ID("s-nonsense".into()), "staff").is_err());
    }

    #[test]
    fn pseudonyms_are_stable_and_keyed() {
        let analyst = Disclosure::keyed(&KEYS, Scope::Pseudonymised);
        let other_store = KeyStore::seeded(2);
        let other_key = Disclosure::keyed(&other_store, Scope::Pseudonymised);
        let (a, b) = (YouthId(uuid::Uuid::from_u128(7)), YouthId(uuid::Uuid::from_u128(8)));
        for (store, (youth, number)) in [
            (&*KEYS, (a, "010203-1234")),
            (&*KEYS, (b, "010203-1235")),
            (&other_store, (a, "010203-1234")),
        ] {
            store
                .register(&kui_domain::Cpr::parse(number).unwrap(), || youth)
                .unwrap();
        }
        assert_eq!(analyst.youth_pseudonym(YouthId(uuid::Uuid::from_u128(9))), "p-erased");
        assert_eq!(analyst.youth_pseudonym(a), analyst.youth_pseudonym(a));
        assert_ne!(analyst.youth_pseudonym(a), analyst.youth_pseudonym(b));
        assert_ne!(analyst.youth_pseudonym(a), other_key.youth_pseudonym(a));
        assert_eq!(analyst.youth_pseudonym(a).len(), 2 + PSEUDONYM_HEX);
        assert_eq!(analyst.personal(Some("Emil")), None);
        assert_eq!(
            Disclosure::keyed(&KEYS, Scope::Everywhere).personal(Some("Emil")),
            Some("Emil")
        );
    }
}
