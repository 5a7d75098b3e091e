//! One young person's case: referral, assessments, school, consent, plan, contact,
//! the coordinator scheme, age milestones and closure.

use chrono::{Datelike, NaiveDate};
use kui_domain::values::{
    age_on, birthday_at, ActionStatus, CloseReason, ConsentGiver, Department, Destination, Indicator, NeedLevel, Plan,
    PlanAction, PlanKind, ReleaseReason, SchoolStatus, Team,
};
use kui_domain::youth::{CaseStatus, CoordinatorState};
use kui_domain::{CaseCommand, CoordinatorChoice, Cpr, Referral, YouthId, YouthInput};

use super::sim::{add_days, departments_in, dept_index, role, CoordPath, Kind, Purpose, Sim, Task, YouthSim};
use super::text;

/// Relative frequency of each age at referral; ages outside the band are left out.
const AGE_WEIGHTS: &[(u32, u32)] = &[
    (13, 30),
    (14, 60),
    (15, 120),
    (16, 130),
    (17, 120),
    (18, 100),
    (19, 90),
    (20, 80),
    (21, 70),
    (22, 60),
    (23, 50),
    (24, 40),
    (25, 30),
    (26, 22),
    (27, 16),
    (28, 12),
    (29, 10),
    (30, 5),
    (31, 4),
    (32, 3),
    (33, 2),
    (34, 1),
];

/// The grade a pupil born on `birth` is in on `on`: grade 0 starts in August of the year the
/// child turns 6; `delay` years behind.
pub(super) fn grade_on(birth: NaiveDate, delay: u8, on: NaiveDate) -> i32 {
    let school_year = if on.month() >= 8 { on.year() } else { on.year() - 1 };
    school_year - birth.year() - 6 - i32::from(delay)
}

fn bit(department: Department) -> u16 {
    1 << dept_index(department)
}

impl Sim<'_> {
    // ---- referral ----

    /// A young person the municipality has not met before.
    pub(super) fn refer_new(&mut self) {
        let today = self.today;
        let age = self.sample_age();
        let birth = self.sample_birth(age);
        let school_delay = u8::from(self.rng.chance(0.15));
        let grade = grade_on(birth, school_delay, today);
        let pupil = age < 18 && ((8..=9).contains(&grade) || (grade == 10 && self.rng.chance(0.45)));
        let status = if pupil {
            SchoolStatus::PrimarySchool
        } else {
            self.sample_status(age)
        };
        let male = self.rng.chance(0.56);
        let cpr = self.make_cpr(birth, male);
        let name = text::youth_name(&mut self.rng, male);
        let id = YouthId::for_cpr(&cpr);
        let yi = self.youth.len() as u32;
        self.youth.push(Some(Box::new(YouthSim {
            agg: Default::default(),
            version: 0,
            id,
            birth,
            gen: 0,
            need: NeedLevel::A,
            responsible: 0,
            coordinator: None,
            caseworker: None,
            departments: 0,
            school_delay,
            path: CoordPath::Undecided,
            extensions: 0,
            follow_ups: 0,
            offers: 0,
            transition_hours: 0,
            neglected: false,
            guardian_consent: false,
            transition: false,
            k_meeting: false,
            complex: false,
            initial_done: false,
        })));
        self.stats.youth += 1;
        if !self.refer(yi, cpr, name, age, status, 0) {
            self.youth[yi as usize] = None;
        }
    }

    /// A young person whose case was closed comes back.
    pub(super) fn re_refer(&mut self, task: Task) {
        let yi = task.target;
        let Some(y) = self
            .youth_ref(yi)
            .filter(|y| y.gen == task.gen && y.agg.status == CaseStatus::Closed)
        else {
            return;
        };
        let age = age_on(y.birth, self.today);
        let Some(cpr) = y.agg.cpr.clone().filter(|_| self.band.covers(age)) else {
            self.youth[yi as usize] = None;
            return;
        };
        let name = y.agg.name.clone();
        let was_pupil = y.agg.school_status == Some(SchoolStatus::PrimarySchool);
        let still_pupil = age < 18 && was_pupil && grade_on(y.birth, y.school_delay, self.today) <= 10;
        let status = if still_pupil {
            SchoolStatus::PrimarySchool
        } else {
            self.rng.weighted(&[
                (SchoolStatus::DroppedOut, 40),
                (SchoolStatus::Inactive, 40),
                (SchoolStatus::AtRisk, 20),
            ])
        };
        if let Some(y) = self.youth_mut(yi) {
            y.path = CoordPath::Undecided;
            y.extensions = 0;
            y.follow_ups = 0;
            y.offers = 0;
            y.neglected = false;
            y.transition = false;
            y.k_meeting = false;
            y.complex = false;
            y.initial_done = false;
        }
        if !self.refer(yi, cpr, name, age, status, 1) {
            self.youth[yi as usize] = None;
        }
    }

    /// Records the referral (`extra_need` shifts the need up for people who come back) and
    /// starts the case.
    fn refer(&mut self, yi: u32, cpr: Cpr, name: String, age: u32, status: SchoolStatus, extra_need: u32) -> bool {
        let referrer_department = self.sample_referrer(age, status);
        let referrer = self.pick_staff(referrer_department);
        let referrer_department = self.staff[referrer as usize].department;
        let indicators = self.sample_indicators(status, referrer_department);
        let need = self.sample_need(&indicators, referrer_department, extra_need);
        let responsible = self.pick_staff(if age < 18 {
            Department::Uu
        } else {
            Department::JobCentre
        });
        let mut departments = bit(referrer_department) | bit(self.staff[responsible as usize].department);
        if indicators.contains(&Indicator::FamilyServicesCase) {
            departments |= bit(Department::ChildrenAndFamily);
        }
        if indicators.contains(&Indicator::NotEducationReady) && self.rng.chance(0.5) {
            departments |= bit(Department::Ppr);
        }
        if need == NeedLevel::C {
            for (department, p) in [
                (Department::AdultDisability, 0.3),
                (Department::Health, 0.25),
                (Department::SubstanceAbuse, 0.1),
            ] {
                if self.rng.chance(p) {
                    departments |= bit(department);
                }
            }
        } else if need == NeedLevel::B && self.rng.chance(0.1) {
            departments |= bit(Department::Health);
        }
        let note = (*self.rng.pick(text::REFERRAL_NOTES)).to_owned();
        let Some(y) = self.youth_mut(yi) else { return false };
        y.need = need;
        y.responsible = responsible;
        y.departments = departments;
        let referral = Referral {
            youth_id: y.id,
            cpr,
            name,
            municipality: self.municipality,
            referred_by: self.staff[referrer as usize].id,
            department: referrer_department,
            indicators,
            school_status: status,
            note,
        };
        let actor = self.actor(referrer, role::CASEWORKER);
        if !self.youth_command(
            yi,
            actor,
            YouthInput::Refer {
                referral,
                age_band: self.band,
            },
        ) {
            return false;
        }
        self.start_case(yi);
        true
    }

    /// Plans what follows every referral: the assessment, the age milestones and school.
    fn start_case(&mut self, yi: u32) {
        let Some(y) = self.youth_ref(yi) else { return };
        let (gen, birth, delay) = (y.gen, y.birth, y.school_delay);
        let (status, turned, first) = (y.agg.school_status, y.agg.turned_eighteen, y.agg.first_referred_on);
        let today = self.today;
        let assess_in = self.rng.low_skewed(1, 10);
        self.schedule_in(assess_in, yi, gen, Kind::AssessNeed);
        let eighteen = birthday_at(birth, 18);
        if !turned && first.is_some_and(|f| f <= eighteen) {
            self.schedule_system(self.day_of(eighteen), yi, gen, Kind::Eighteen);
        }
        let band_end = birthday_at(birth, u32::from(self.band.until));
        self.schedule_system(self.day_of(band_end), yi, gen, Kind::AgedOut);
        if status == Some(SchoolStatus::PrimarySchool) {
            let grade = grade_on(birth, delay, today);
            let last_grade = if grade <= 9 && self.rng.chance(0.6) { 9 } else { 10 }.max(grade);
            let leave_year = birth.year() + 6 + i32::from(delay) + last_grade + 1;
            let leave_day = self.rng.range(8, 20) as u32;
            if let Some(leave) = NaiveDate::from_ymd_opt(leave_year, 8, leave_day) {
                let day = self.day_of(leave).max(self.day + 5);
                self.schedule(day, yi, gen, Kind::SchoolLeave);
            }
            let readiness = if (2..=6).contains(&today.month()) && self.rng.chance(0.5) {
                self.day + self.rng.range(10, 40)
            } else {
                self.next_january(10, 28)
            };
            self.schedule(readiness, yi, gen, Kind::Readiness);
        } else {
            let step_in = self.rng.range(30, 200);
            self.schedule_in(step_in, yi, gen, Kind::SchoolStep);
        }
    }

    /// A day index in January of next year (or this January if it is early January now).
    fn next_january(&mut self, from_day: u32, to_day: u32) -> i64 {
        let year = if self.today.month() == 1 && self.today.day() < from_day {
            self.today.year()
        } else {
            self.today.year() + 1
        };
        let day = self.rng.range(i64::from(from_day), i64::from(to_day)) as u32;
        NaiveDate::from_ymd_opt(year, 1, day)
            .map(|d| self.day_of(d))
            .unwrap_or(self.day + 180)
    }

    fn sample_age(&mut self) -> u32 {
        let band = self.band;
        let weights: Vec<(u32, u32)> = AGE_WEIGHTS
            .iter()
            .copied()
            .filter(|(age, _)| band.covers(*age))
            .collect();
        if weights.is_empty() {
            return u32::from(band.from);
        }
        self.rng.weighted(&weights)
    }

    /// A birth date that makes the young person exactly `age` today.
    fn sample_birth(&mut self, age: u32) -> NaiveDate {
        let today = self.today;
        let same_day = |years_back: u32| {
            let year = today.year() - years_back as i32;
            NaiveDate::from_ymd_opt(year, today.month(), today.day())
                .or_else(|| NaiveDate::from_ymd_opt(year, today.month(), today.day() - 1))
                .unwrap_or(today)
        };
        let latest = same_day(age);
        let earliest = add_days(same_day(age + 1), 1);
        let span = (latest - earliest).num_days();
        for _ in 0..8 {
            let birth = add_days(earliest, self.rng.range(0, span));
            if age_on(birth, today) == age {
                return birth;
            }
        }
        latest
    }

    /// A unique CPR number: 7th digit 0-3 for the 1900s and 4-9 for 2000-2036, last digit odd
    /// for men and even for women.
    fn make_cpr(&mut self, birth: NaiveDate, male: bool) -> Cpr {
        let yy = birth.year().rem_euclid(100);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let seventh = if birth.year() >= 2000 {
                self.rng.range(4, 9)
            } else {
                self.rng.range(0, 3)
            };
            let middle = self.rng.range(0, 99);
            let last = self.rng.range(0, 4) * 2 + i64::from(male);
            let digits = format!(
                "{:02}{:02}{yy:02}{seventh}{middle:02}{last}",
                birth.day(),
                birth.month()
            );
            let key: u64 = digits.parse().unwrap_or(0);
            // Over 6,000 numbers per birth date exist; a run never comes close to using them up.
            if !self.used_cpr.insert(key) && attempts < 10_000 {
                continue;
            }
            if let Ok(cpr) = Cpr::parse(&digits) {
                return cpr;
            }
        }
    }

    fn sample_status(&mut self, age: u32) -> SchoolStatus {
        use SchoolStatus::*;
        let weights: &[(SchoolStatus, u32)] = match age {
            0..=16 => &[
                (InEducation, 40),
                (AtRisk, 15),
                (DroppedOut, 15),
                (Inactive, 25),
                (Working, 5),
            ],
            17 => &[
                (InEducation, 40),
                (AtRisk, 15),
                (DroppedOut, 18),
                (Inactive, 20),
                (Working, 7),
            ],
            18..=24 => &[
                (InEducation, 28),
                (AtRisk, 10),
                (DroppedOut, 22),
                (Inactive, 30),
                (Working, 10),
            ],
            _ => &[
                (InEducation, 15),
                (AtRisk, 5),
                (DroppedOut, 20),
                (Inactive, 45),
                (Working, 15),
            ],
        };
        self.rng.weighted(weights)
    }

    fn sample_referrer(&mut self, age: u32, status: SchoolStatus) -> Department {
        use Department::*;
        let weights: &[(Department, u32)] = if status == SchoolStatus::PrimarySchool {
            &[
                (Uu, 45),
                (ChildrenAndFamily, 20),
                (Ppr, 12),
                (Health, 10),
                (YouthSchool, 13),
            ]
        } else if age < 18 {
            &[
                (Uu, 50),
                (ChildrenAndFamily, 22),
                (YouthSchool, 10),
                (Health, 5),
                (SubstanceAbuse, 5),
                (Other, 8),
            ]
        } else if age < 23 {
            &[
                (JobCentre, 58),
                (Uu, 14),
                (AdultDisability, 12),
                (SubstanceAbuse, 6),
                (ChildrenAndFamily, 5),
                (Health, 3),
                (Other, 2),
            ]
        } else {
            &[
                (JobCentre, 63),
                (Uu, 10),
                (AdultDisability, 14),
                (SubstanceAbuse, 8),
                (Health, 3),
                (Other, 2),
            ]
        };
        self.rng.weighted(weights)
    }

    fn sample_indicators(&mut self, status: SchoolStatus, referrer: Department) -> Vec<Indicator> {
        use Indicator::*;
        let options: &[(Indicator, u32)] = match status {
            SchoolStatus::PrimarySchool => &[
                (HighAbsence, 35),
                (WorryingAbsence, 25),
                (NotEducationReady, 40),
                (FamilyServicesCase, 20),
            ],
            SchoolStatus::InEducation => &[
                (NeedsSupportInEducation, 60),
                (HighAbsence, 30),
                (FamilyServicesCase, 10),
            ],
            SchoolStatus::AtRisk => &[(NeedsSupportInEducation, 40), (HighAbsence, 40), (WorryingAbsence, 20)],
            SchoolStatus::DroppedOut => &[(DroppedOut, 70), (OutsideEducation, 50), (FamilyServicesCase, 8)],
            _ => &[(OutsideEducation, 80), (DroppedOut, 20), (FamilyServicesCase, 8)],
        };
        let wanted = 1 + usize::from(self.rng.chance(0.45)) + usize::from(self.rng.chance(0.15));
        let mut indicators: Vec<Indicator> = Vec::with_capacity(wanted + 1);
        for _ in 0..wanted * 4 {
            if indicators.len() >= wanted {
                break;
            }
            let indicator = self.rng.weighted(options);
            if !indicators.contains(&indicator) {
                indicators.push(indicator);
            }
        }
        if referrer == Department::ChildrenAndFamily && !indicators.contains(&FamilyServicesCase) {
            indicators.push(FamilyServicesCase);
        }
        indicators
    }

    /// A, B or C, shifted towards C by more indicators, a family services case and referrers
    /// from the specialised departments.
    fn sample_need(&mut self, indicators: &[Indicator], referrer: Department, extra: u32) -> NeedLevel {
        let specialised = matches!(
            referrer,
            Department::ChildrenAndFamily | Department::AdultDisability | Department::SubstanceAbuse | Department::Ppr
        );
        let shift = (indicators.len().saturating_sub(1) as u32
            + u32::from(indicators.contains(&Indicator::FamilyServicesCase))
            + u32::from(specialised)
            + extra)
            .min(3);
        self.rng.weighted(&[
            (NeedLevel::A, 60 - 13 * shift),
            (NeedLevel::B, 28 + 4 * shift),
            (NeedLevel::C, 12 + 9 * shift),
        ])
    }

    // ---- people on the case ----

    /// The case's primary caseworker, replaced by a colleague if they left.
    pub(super) fn responsible(&mut self, yi: u32) -> u32 {
        let Some(current) = self.youth_ref(yi).map(|y| y.responsible) else {
            return self.pick_staff(Department::Uu);
        };
        if self.staff[current as usize].active {
            return current;
        }
        let successor = self.pick_staff(self.staff[current as usize].department);
        if let Some(y) = self.youth_mut(yi) {
            y.responsible = successor;
        }
        successor
    }

    /// Who does the day-to-day work: the coordinator half the time if there is one.
    fn worker(&mut self, yi: u32) -> (u32, &'static str) {
        let coordinator = self.youth_ref(yi).and_then(|y| y.coordinator);
        match coordinator {
            Some(c) if self.staff[c as usize].active && self.rng.chance(0.5) => (c, role::COORDINATOR),
            _ => {
                let responsible = self.responsible(yi);
                let acting_as = if coordinator == Some(responsible) {
                    role::COORDINATOR
                } else {
                    role::CASEWORKER
                };
                (responsible, acting_as)
            }
        }
    }

    // ---- assessments ----

    pub(super) fn assess_need(&mut self, task: Task) {
        let Some(y) = self.open_youth(task) else { return };
        let (yi, gen, need, birth, departments) = (task.target, task.gen, y.need, y.birth, y.departments);
        let age = age_on(birth, self.today);
        let assessor = self.responsible(yi);
        let level_idx = match need {
            NeedLevel::A => 0,
            NeedLevel::B => 1,
            NeedLevel::C => 2,
        };
        let note = (*self.rng.pick(text::NEED_NOTES[level_idx])).to_owned();
        let command = CaseCommand::AssessNeed {
            level: need,
            assessed_by: self.staff[assessor as usize].id,
            note,
        };
        let actor = self.actor(assessor, role::CASEWORKER);
        if !self.youth_command(yi, actor, command) {
            return;
        }
        let duration = match need {
            NeedLevel::A => self.rng.range(20, 150),
            NeedLevel::B => self.rng.range(120, 720),
            NeedLevel::C => self.rng.range(240, 1460),
        };
        self.schedule_in(duration, yi, gen, Kind::Close);
        if self.rng.chance(0.05) {
            let moves_in = self.rng.range(20, duration.max(22) - 1);
            self.schedule_in(moves_in, yi, gen, Kind::MoveAway);
        }
        let mut neglected = false;
        match need {
            NeedLevel::A => {
                for (p, lo, hi, kind) in [
                    (0.4, 5, 20, Kind::PlanUpdate),
                    (0.4, 5, 40, Kind::Contact),
                    (0.15, 2, 14, Kind::Consent),
                ] {
                    if self.rng.chance(p) {
                        let days = self.rng.range(lo, hi);
                        self.schedule_in(days, yi, gen, kind);
                    }
                }
            }
            NeedLevel::B | NeedLevel::C => {
                if self.rng.chance(0.9) {
                    let days = self.rng.range(2, 14);
                    self.schedule_in(days, yi, gen, Kind::Consent);
                }
                let plan_in = self.rng.range(7, 28);
                self.schedule_in(plan_in, yi, gen, Kind::PlanUpdate);
                let contact_in = self.rng.range(7, 30);
                self.schedule_in(contact_in, yi, gen, Kind::Contact);
                neglected = self.rng.chance(0.15);
            }
        }
        let path = match need {
            NeedLevel::C => self.rng.weighted(&[
                (CoordPath::NotRelevant, 35),
                (CoordPath::MeetingAssign, 30),
                (CoordPath::OfferAfter, 35),
            ]),
            NeedLevel::B if self.rng.chance(0.08) => self
                .rng
                .weighted(&[(CoordPath::NotRelevant, 70), (CoordPath::OfferAfter, 30)]),
            _ => CoordPath::Undecided,
        };
        if path != CoordPath::Undecided {
            let table_in = if self.rng.chance(0.85) {
                self.rng.range(3, 20)
            } else {
                self.rng.range(25, 55)
            };
            self.schedule_in(table_in, yi, gen, Kind::Table(Purpose::Initial));
        }
        let eighteen = birthday_at(birth, 18);
        let prepares_handover = need == NeedLevel::C || (need == NeedLevel::B && self.rng.chance(0.25));
        if prepares_handover && age < 18 && self.day_of(eighteen) > self.day + 45 {
            let on = if self.rng.chance(0.75) {
                add_days(eighteen, -183 - self.rng.range(0, 30))
            } else {
                add_days(eighteen, -self.rng.range(10, 75))
            };
            let day = self.day_of(on);
            if day > self.day + 7 {
                self.schedule(day, yi, gen, Kind::Table(Purpose::Handover18));
            }
        }
        let social = departments & (bit(Department::ChildrenAndFamily) | bit(Department::AdultDisability)) != 0;
        let transition = age < 17
            && ((need == NeedLevel::C && social && self.rng.chance(0.4))
                || (need == NeedLevel::B && self.rng.chance(0.05)));
        let many_departments = departments.count_ones() >= 3;
        let k_meeting = need == NeedLevel::C && many_departments && self.rng.chance(0.5);
        let complex = need == NeedLevel::C && (many_departments || self.rng.chance(0.3));
        let hours = self.rng.range(11, 37) as u8;
        if transition {
            let form_in = self.rng.range(10, 40);
            self.schedule_in(form_in, yi, gen, Kind::TransitionForm);
        }
        if let Some(y) = self.youth_mut(yi) {
            y.neglected = neglected;
            y.path = path;
            y.transition = transition;
            y.transition_hours = hours;
            y.k_meeting = k_meeting;
            y.complex = complex;
        }
    }

    pub(super) fn assess_readiness(&mut self, task: Task) {
        let Some(y) = self.open_youth(task) else { return };
        let (yi, gen, need) = (task.target, task.gen, y.need);
        let grade = grade_on(y.birth, y.school_delay, self.today);
        if y.agg.school_status != Some(SchoolStatus::PrimarySchool) || !(8..=10).contains(&grade) {
            return;
        }
        let p_ready = match need {
            NeedLevel::A => 0.8,
            NeedLevel::B => 0.45,
            NeedLevel::C => 0.15,
        };
        let ready = self.rng.chance(p_ready);
        let (mut academic, mut social, mut personal) = (true, true, true);
        if !ready {
            academic = self.rng.chance(0.5);
            social = self.rng.chance(0.5);
            personal = self.rng.chance(0.4);
            if academic && social && personal {
                match self.rng.below(3) {
                    0 => academic = false,
                    1 => social = false,
                    _ => personal = false,
                }
            }
        }
        let counsellor = self.counsellor(yi);
        let command = CaseCommand::AssessReadiness {
            education_ready: ready,
            academic,
            social,
            personal,
            grade: grade as u8,
            assessed_by: self.staff[counsellor as usize].id,
        };
        let actor = self.actor(counsellor, role::CASEWORKER);
        self.youth_command(yi, actor, command);
        let next = self.next_january(10, 28);
        self.schedule(next, yi, gen, Kind::Readiness);
    }

    /// The UU counsellor on the case: the primary caseworker if from UU, else a colleague.
    fn counsellor(&mut self, yi: u32) -> u32 {
        let responsible = self.responsible(yi);
        if self.staff[responsible as usize].department == Department::Uu {
            responsible
        } else {
            self.pick_staff(Department::Uu)
        }
    }

    // ---- school ----

    pub(super) fn school_leave(&mut self, task: Task) {
        let Some(y) = self.open_youth(task) else { return };
        if y.agg.school_status != Some(SchoolStatus::PrimarySchool) {
            return;
        }
        let (yi, gen, need) = (task.target, task.gen, y.need);
        use SchoolStatus::*;
        let status = match need {
            NeedLevel::A => self.rng.weighted(&[(InEducation, 85), (Inactive, 8), (Working, 7)]),
            NeedLevel::B => self
                .rng
                .weighted(&[(InEducation, 65), (Inactive, 20), (Working, 8), (AtRisk, 7)]),
            NeedLevel::C => self
                .rng
                .weighted(&[(InEducation, 45), (Inactive, 35), (Working, 5), (AtRisk, 15)]),
        };
        self.change_school(yi, status);
        let step_in = self.rng.range(60, 240);
        self.schedule_in(step_in, yi, gen, Kind::SchoolStep);
    }

    /// The next move in education, a few months from now.
    pub(super) fn school_step(&mut self, task: Task) {
        let Some(y) = self.open_youth(task) else { return };
        let (yi, gen, need) = (task.target, task.gen, y.need);
        let age = age_on(y.birth, self.today);
        let Some(status) = y.agg.school_status.filter(|s| *s != SchoolStatus::PrimarySchool) else {
            return;
        };
        use SchoolStatus::*;
        let stay = status;
        let (options, lo, hi): (Vec<(SchoolStatus, u32)>, i64, i64) = match (status, need) {
            (InEducation, NeedLevel::C) => (
                vec![
                    (AtRisk, 35),
                    (DroppedOut, 25),
                    (Completed, 10),
                    (Working, 5),
                    (stay, 25),
                ],
                60,
                300,
            ),
            (InEducation, NeedLevel::B) => (
                vec![
                    (AtRisk, 25),
                    (DroppedOut, 15),
                    (Completed, 20),
                    (Working, 5),
                    (stay, 35),
                ],
                60,
                300,
            ),
            (InEducation, NeedLevel::A) => (vec![(AtRisk, 10), (Completed, 30), (stay, 60)], 60, 300),
            (AtRisk, _) => (vec![(InEducation, 55), (DroppedOut, 45)], 20, 120),
            (DroppedOut, _) => (vec![(InEducation, 45), (Inactive, 35), (Working, 20)], 25, 150),
            (Inactive, _) => (vec![(InEducation, 45), (Working, 25), (stay, 30)], 45, 240),
            (Working, _) => (vec![(InEducation, 15), (Inactive, 15), (stay, 70)], 90, 360),
            (Completed, _) => (vec![(Working, 50), (InEducation, 30), (stay, 20)], 30, 200),
            (PrimarySchool, _) => return,
        };
        let mut next = self.rng.weighted(&options);
        if next == Completed && age < 17 {
            next = stay;
        }
        if next != status {
            self.change_school(yi, next);
            if next == DroppedOut {
                let contact_in = if self.rng.chance(0.85) {
                    self.rng.range(1, 4)
                } else {
                    self.rng.range(6, 20)
                };
                self.schedule_in(contact_in, yi, gen, Kind::DropoutContact);
                let offer_in = if self.rng.chance(0.85) {
                    self.rng.range(7, 28)
                } else {
                    self.rng.range(31, 70)
                };
                self.schedule_in(offer_in, yi, gen, Kind::DropoutOffer);
            }
        }
        let step_in = self.rng.range(lo, hi);
        self.schedule_in(step_in, yi, gen, Kind::SchoolStep);
    }

    /// Records a new school status, mostly as an import from the national youth database,
    /// and moves a pupil who left primary school out of team 1.
    fn change_school(&mut self, yi: u32, status: SchoolStatus) {
        let actor = if self.rng.chance(0.7) {
            Self::system()
        } else {
            let counsellor = self.counsellor(yi);
            self.actor(counsellor, role::CASEWORKER)
        };
        let command = CaseCommand::ChangeSchoolStatus { status, on: self.today };
        if !self.youth_command(yi, actor, command) {
            return;
        }
        let Some(y) = self.youth_ref(yi) else { return };
        let team = Team::for_youth(age_on(y.birth, self.today), status);
        if y.agg.team.is_some() && y.agg.team != Some(team) && y.agg.team == Some(Team::Team1) {
            let responsible = self.responsible(yi);
            let actor = self.actor(responsible, role::CASEWORKER);
            self.youth_command(yi, actor, CaseCommand::AssignTeam { team: None });
        }
    }

    pub(super) fn dropout_contact(&mut self, task: Task, offer_made: bool) {
        if self.open_youth(task).is_none() {
            return;
        }
        let yi = task.target;
        let responsible = self.responsible(yi);
        let command = CaseCommand::RecordContact {
            by: self.staff[responsible as usize].id,
            on: self.today,
            offer_made,
        };
        let actor = self.actor(responsible, role::CASEWORKER);
        self.youth_command(yi, actor, command);
    }

    // ---- consent and contact ----

    pub(super) fn give_consent(&mut self, task: Task) {
        let Some(y) = self.open_youth(task) else { return };
        let (yi, departments) = (task.target, y.departments);
        let age = age_on(y.birth, self.today);
        let given_by = if age < 18 && task.kind == Kind::Consent && self.rng.chance(0.6) {
            ConsentGiver::Guardian
        } else {
            ConsentGiver::Youth
        };
        let mut departments = departments_in(departments);
        if departments.len() < 2 {
            let other = if age < 18 {
                Department::ChildrenAndFamily
            } else {
                Department::JobCentre
            };
            if !departments.contains(&other) {
                departments.push(other);
            }
        }
        let responsible = self.responsible(yi);
        let actor = self.actor(responsible, role::CASEWORKER);
        if !self.youth_command(yi, actor, CaseCommand::GiveConsent { given_by, departments }) {
            return;
        }
        if let Some(y) = self.youth_mut(yi) {
            y.guardian_consent = given_by == ConsentGiver::Guardian;
        }
        if task.kind == Kind::Consent && self.rng.chance(0.03) {
            let withdraw_in = self.rng.range(60, 500);
            self.schedule_in(withdraw_in, yi, task.gen, Kind::ConsentWithdraw);
        }
    }

    pub(super) fn withdraw_consent(&mut self, task: Task) {
        let Some(y) = self.open_youth(task) else { return };
        if !y.agg.consent {
            return;
        }
        let yi = task.target;
        let withdrawn_by = if age_on(y.birth, self.today) < 18 && y.guardian_consent {
            ConsentGiver::Guardian
        } else {
            ConsentGiver::Youth
        };
        let responsible = self.responsible(yi);
        let actor = self.actor(responsible, role::CASEWORKER);
        if self.youth_command(yi, actor, CaseCommand::WithdrawConsent { withdrawn_by }) && self.rng.chance(0.5) {
            let again_in = self.rng.range(30, 150);
            self.schedule_in(again_in, yi, task.gen, Kind::ConsentRenewal);
        }
    }

    pub(super) fn contact(&mut self, task: Task) {
        let Some(y) = self.open_youth(task) else { return };
        let (yi, gen, need) = (task.target, task.gen, y.need);
        let yesterday = add_days(self.today, -1);
        let late_note = y.agg.first_referred_on.is_some_and(|first| first <= yesterday) && self.rng.chance(0.2);
        let on = if late_note { yesterday } else { self.today };
        let (by, actor_role) = self.worker(yi);
        let offer_made = self.rng.chance(0.1);
        let command = CaseCommand::RecordContact {
            by: self.staff[by as usize].id,
            on,
            offer_made,
        };
        let actor = self.actor(by, actor_role);
        self.youth_command(yi, actor, command);
        let next = match need {
            NeedLevel::A => return,
            NeedLevel::B => self.rng.range(21, 60),
            NeedLevel::C => self.rng.range(10, 40),
        };
        self.schedule_in(next, yi, gen, Kind::Contact);
    }

    // ---- the plan ----

    pub(super) fn update_plan(&mut self, task: Task) {
        let Some(y) = self.open_youth(task) else { return };
        let (yi, gen, need, neglected, revision) = (task.target, task.gen, y.need, y.neglected, y.agg.plan_revision);
        let (kind, plan) = self.next_plan(yi);
        let (by, actor_role) = self.worker(yi);
        let command = CaseCommand::UpdatePlan {
            based_on_revision: Some(revision),
            kind,
            plan,
            updated_by: self.staff[by as usize].id,
        };
        let actor = self.actor(by, actor_role);
        self.youth_command(yi, actor, command);
        let next = match need {
            NeedLevel::A => return,
            _ if neglected && self.rng.chance(0.5) => self.rng.range(95, 200),
            NeedLevel::B => self.rng.range(30, 120),
            NeedLevel::C => self.rng.range(21, 75),
        };
        self.schedule_in(next, yi, gen, Kind::PlanUpdate);
    }

    fn new_action(&mut self, department: Department) -> PlanAction {
        let description = (*self.rng.pick(text::actions_of(department))).to_owned();
        let responsible = if self.rng.chance(0.8) {
            let staff = self.pick_staff(department);
            Some(self.staff[staff as usize].id)
        } else {
            None
        };
        let due = Some(add_days(self.today, self.rng.range(14, 120)));
        let status = if self.rng.chance(0.7) {
            ActionStatus::Planned
        } else {
            ActionStatus::Active
        };
        PlanAction {
            description,
            department,
            responsible,
            due,
            status,
        }
    }

    fn pick_goal(&mut self, kind: PlanKind, except: &[String]) -> String {
        let goals = if kind == PlanKind::JobPlan {
            text::JOB_GOALS
        } else {
            text::EDUCATION_GOALS
        };
        for _ in 0..8 {
            let goal = *self.rng.pick(goals);
            if !except.iter().any(|g| g == goal) {
                return goal.to_owned();
            }
        }
        (*self.rng.pick(goals)).to_owned()
    }

    /// The next version of the plan: the first plan, or the current one with actions moved
    /// on, added or cancelled, leavers replaced, and the job plan from 18.
    fn next_plan(&mut self, yi: u32) -> (PlanKind, Plan) {
        let Some(y) = self.youth_ref(yi) else {
            return (PlanKind::EducationPlan, Plan::default());
        };
        let age = age_on(y.birth, self.today);
        let kind = if age >= 18 {
            PlanKind::JobPlan
        } else {
            PlanKind::EducationPlan
        };
        let current = y.agg.plan.clone();
        let departments = departments_in(y.departments);
        let need = y.need;
        let Some((old_kind, mut plan)) = current else {
            let mut goals = vec![self.pick_goal(kind, &[])];
            if need != NeedLevel::A && self.rng.chance(0.5) {
                let second = self.pick_goal(kind, &goals);
                goals.push(second);
            }
            let n_actions = match need {
                NeedLevel::A => self.rng.range(0, 1) as usize,
                _ => self.rng.range(1, departments.len().clamp(1, 4) as i64) as usize,
            };
            let mut actions = Vec::with_capacity(n_actions);
            for action_idx in 0..n_actions {
                let department = departments.get(action_idx).copied().unwrap_or(Department::Uu);
                actions.push(self.new_action(department));
            }
            return (kind, Plan { goals, actions });
        };
        let mut changed = old_kind != kind;
        if old_kind != kind {
            let mut goals = vec![self.pick_goal(kind, &[])];
            if let Some(kept) = plan.goals.first().filter(|_| self.rng.chance(0.5)) {
                if !goals.contains(kept) {
                    goals.push(kept.clone());
                }
            }
            plan.goals = goals;
            plan.actions.push(self.new_action(Department::JobCentre));
        }
        for action_idx in 0..plan.actions.len() {
            if let Some(responsible) = plan.actions[action_idx].responsible {
                if !self.is_active(responsible) {
                    let successor = self.pick_staff(plan.actions[action_idx].department);
                    plan.actions[action_idx].responsible = Some(self.staff[successor as usize].id);
                    changed = true;
                }
            }
        }
        // One or two different open actions move on; each at most once, so nothing is undone.
        let mut open: Vec<usize> = (0..plan.actions.len())
            .filter(|&i| matches!(plan.actions[i].status, ActionStatus::Planned | ActionStatus::Active))
            .collect();
        let n_progress = self.rng.range(1, 2);
        for _ in 0..n_progress {
            if open.is_empty() {
                break;
            }
            let pick = self.rng.index(open.len());
            let action_idx = open.swap_remove(pick);
            let action = &mut plan.actions[action_idx];
            match action.status {
                ActionStatus::Planned => action.status = ActionStatus::Active,
                _ if self.rng.chance(0.7) => action.status = ActionStatus::Done,
                _ => {
                    let due = Some(add_days(self.today, self.rng.range(14, 90)));
                    changed |= action.due != due;
                    action.due = due;
                    continue;
                }
            }
            changed = true;
        }
        let has_open = plan
            .actions
            .iter()
            .any(|a| matches!(a.status, ActionStatus::Planned | ActionStatus::Active));
        if !has_open || self.rng.chance(0.35) {
            let department = if departments.is_empty() {
                Department::Uu
            } else {
                *self.rng.pick(&departments)
            };
            plan.actions.push(self.new_action(department));
            changed = true;
        }
        if self.rng.chance(0.05) {
            if let Some(action) = plan.actions.iter_mut().find(|a| a.status == ActionStatus::Planned) {
                action.status = ActionStatus::Cancelled;
                changed = true;
            }
        }
        if self.rng.chance(0.1) {
            let goal = self.pick_goal(kind, &plan.goals);
            let replace = self.rng.index(plan.goals.len());
            changed |= plan.goals[replace] != goal;
            plan.goals[replace] = goal;
        }
        while plan.actions.len() > 8 {
            let finished = plan
                .actions
                .iter()
                .position(|a| matches!(a.status, ActionStatus::Done | ActionStatus::Cancelled));
            plan.actions.remove(finished.unwrap_or(0));
            changed = true;
        }
        if !changed {
            let department = if departments.is_empty() {
                Department::Uu
            } else {
                *self.rng.pick(&departments)
            };
            plan.actions.push(self.new_action(department));
        }
        (kind, plan)
    }

    // ---- transition form ----

    pub(super) fn transition_form(&mut self, task: Task) {
        let Some(y) = self.open_youth(task) else { return };
        let (yi, gen, birth) = (task.target, task.gen, y.birth);
        if age_on(birth, self.today) >= 18 {
            return;
        }
        self.record_transition_form(yi);
        // Updated twice a year: in January and in June.
        let mut candidates: Vec<NaiveDate> = Vec::new();
        for year in [self.today.year(), self.today.year() + 1] {
            candidates.extend(NaiveDate::from_ymd_opt(year, 1, 10));
            candidates.extend(NaiveDate::from_ymd_opt(year, 6, 5));
        }
        let soonest = add_days(self.today, 30);
        if let Some(next) = candidates.into_iter().find(|d| *d > soonest) {
            let next = add_days(next, self.rng.range(0, 20));
            if next < birthday_at(birth, 18) {
                let day = self.day_of(next);
                self.schedule(day, yi, gen, Kind::TransitionForm);
            }
        }
    }

    /// Records the transition form, by the children's services adviser.
    pub(super) fn record_transition_form(&mut self, yi: u32) {
        let Some(hours) = self.youth_ref(yi).map(|y| y.transition_hours) else {
            return;
        };
        let hours = if self.rng.chance(0.08) {
            self.rng.range(6, 10)
        } else {
            (i64::from(hours) + self.rng.range(-3, 4)).clamp(11, 40)
        } as u8;
        if let Some(y) = self.youth_mut(yi) {
            y.transition_hours = hours;
        }
        let adviser = self.pick_staff(Department::ChildrenAndFamily);
        let note = (*self.rng.pick(text::TRANSITION_NOTES)).to_owned();
        let command = CaseCommand::RecordTransitionForm {
            expected_weekly_hours: u16::from(hours),
            recorded_by: self.staff[adviser as usize].id,
            note,
        };
        let actor = self.actor(adviser, role::CASEWORKER);
        self.youth_command(yi, actor, command);
    }

    // ---- the coordinator scheme ----

    pub(super) fn offer_coordinator(&mut self, task: Task) {
        let Some(y) = self.open_youth(task) else { return };
        if matches!(
            y.agg.coordinator,
            CoordinatorState::Assigned(_) | CoordinatorState::Offered
        ) {
            return;
        }
        let (yi, gen) = (task.target, task.gen);
        let responsible = self.responsible(yi);
        let command = CaseCommand::OfferCoordinator {
            offered_by: self.staff[responsible as usize].id,
        };
        let actor = self.actor(responsible, role::CASEWORKER);
        if self.youth_command(yi, actor, command) {
            if let Some(y) = self.youth_mut(yi) {
                y.offers = y.offers.saturating_add(1);
            }
            let answer_in = self.rng.range(3, 21);
            self.schedule_in(answer_in, yi, gen, Kind::Answer);
        }
    }

    pub(super) fn answer_offer(&mut self, task: Task) {
        let Some(y) = self.open_youth(task) else { return };
        if y.agg.coordinator != CoordinatorState::Offered {
            return;
        }
        let (yi, gen, offers) = (task.target, task.gen, y.offers);
        let age = age_on(y.birth, self.today);
        let p_decline = if offers <= 1 { 0.30 } else { 0.35 };
        if self.rng.chance(p_decline) {
            let declined_by = if age < 18 && self.rng.chance(0.4) {
                ConsentGiver::Guardian
            } else {
                ConsentGiver::Youth
            };
            let note = (*self.rng.pick(text::DECLINE_NOTES)).to_owned();
            let responsible = self.responsible(yi);
            let actor = self.actor(responsible, role::CASEWORKER);
            if self.youth_command(yi, actor, CaseCommand::DeclineCoordinator { declined_by, note })
                && offers < 2
                && self.rng.chance(0.25)
            {
                let again_in = self.rng.range(90, 270);
                self.schedule_in(again_in, yi, gen, Kind::Offer);
            }
        } else {
            self.assign_by_lead(yi, age >= 18);
        }
    }

    /// A team lead assigns a coordinator after the young person accepted the offer.
    fn assign_by_lead(&mut self, yi: u32, adult: bool) {
        let Some(y) = self.youth_ref(yi) else { return };
        let (gen, current) = (y.gen, y.coordinator);
        let coordinator = self.pick_coordinator(adult, current);
        let lead = self.pick_lead(if adult { Department::JobCentre } else { Department::Uu });
        let command = YouthInput::AssignCoordinator {
            coordinator: self.staff[coordinator as usize].id,
            department: self.staff[coordinator as usize].department,
            chosen_by: CoordinatorChoice::Staff(self.staff[lead as usize].id),
        };
        let actor = self.lead_actor(lead);
        if self.youth_command(yi, actor, command) {
            self.after_assignment(yi, gen);
        }
    }

    /// 5 % of young people later withdraw from the scheme.
    pub(super) fn after_assignment(&mut self, yi: u32, gen: u16) {
        if self.rng.chance(0.05) {
            let withdraw_in = self.rng.range(30, 300);
            self.schedule_in(withdraw_in, yi, gen, Kind::CoordinatorWithdraw);
        }
    }

    pub(super) fn withdraw_coordinator(&mut self, task: Task) {
        let Some(y) = self.open_youth(task) else { return };
        if y.agg.coordinator().is_none() {
            return;
        }
        let yi = task.target;
        let responsible = self.responsible(yi);
        let actor = self.actor(responsible, role::CASEWORKER);
        self.youth_command(
            yi,
            actor,
            CaseCommand::ReleaseCoordinator {
                reason: ReleaseReason::Withdrawn,
            },
        );
    }

    /// After 18 a coordinator from the children's side hands over to the adult side.
    pub(super) fn hand_over_coordinator(&mut self, task: Task) {
        let Some(y) = self.open_youth(task) else { return };
        let Some(current) = y.coordinator else { return };
        if self.staff[current as usize].department.is_adult_side() {
            return;
        }
        let (yi, gen) = (task.target, task.gen);
        let successor = self.pick_coordinator(true, Some(current));
        let lead = self.pick_lead(Department::JobCentre);
        let command = YouthInput::AssignCoordinator {
            coordinator: self.staff[successor as usize].id,
            department: self.staff[successor as usize].department,
            chosen_by: CoordinatorChoice::Staff(self.staff[lead as usize].id),
        };
        let actor = self.lead_actor(lead);
        if self.youth_command(yi, actor, command) {
            self.after_assignment(yi, gen);
        }
    }

    // ---- milestones ----

    /// The daily tick records the 18th birthday; the case moves to team 3 and the job centre.
    pub(super) fn mark_eighteen(&mut self, task: Task) {
        let Some(y) = self.open_youth(task) else { return };
        let eighteen = birthday_at(y.birth, 18);
        let due = !y.agg.turned_eighteen
            && self.today >= eighteen
            && y.agg.first_referred_on.is_some_and(|first| first <= eighteen);
        if !due {
            return;
        }
        let (yi, gen, guardian_consent, coordinator) = (task.target, task.gen, y.guardian_consent, y.coordinator);
        if !self.youth_command(yi, Self::system(), CaseCommand::MarkEighteen) {
            return;
        }
        let adviser = self.pick_staff(Department::JobCentre);
        if let Some(y) = self.youth_mut(yi) {
            y.responsible = adviser;
            y.departments |= bit(Department::JobCentre);
        }
        if guardian_consent && self.rng.chance(0.7) {
            let renew_in = self.rng.range(5, 40);
            self.schedule_in(renew_in, yi, gen, Kind::ConsentRenewal);
        }
        let child_side = coordinator.is_some_and(|c| !self.staff[c as usize].department.is_adult_side());
        if child_side && self.rng.chance(0.45) {
            let hand_over_in = self.rng.range(7, 60);
            self.schedule_in(hand_over_in, yi, gen, Kind::Handover18Coordinator);
        }
    }

    pub(super) fn mark_aged_out(&mut self, task: Task) {
        let Some(y) = self.open_youth(task) else { return };
        if self.today < birthday_at(y.birth, u32::from(self.band.until)) {
            return;
        }
        let band = self.band;
        self.youth_command(task.target, Self::system(), CaseCommand::MarkAgedOut { band });
    }

    // ---- the end of a case ----

    pub(super) fn move_away(&mut self, task: Task) {
        if self.open_youth(task).is_none() {
            return;
        }
        let yi = task.target;
        let responsible = self.responsible(yi);
        let actor = self.actor(responsible, role::CASEWORKER);
        let destination = CaseCommand::RecordDestination {
            destination: Destination::MovedAway,
            on: self.today,
        };
        if self.youth_command(yi, actor.clone(), destination) {
            let note = "Moved to another municipality (CPR notice)".to_owned();
            self.youth_command(
                yi,
                actor,
                CaseCommand::Close {
                    reason: CloseReason::MovedAway,
                    note,
                },
            );
        }
    }

    /// The planned end of the case: a positive destination if the young person is in
    /// education or work; otherwise extended (B, C) or closed without one.
    pub(super) fn close_case(&mut self, task: Task) {
        let Some(y) = self.open_youth(task) else { return };
        let (yi, gen, need, extensions, coordinator) = (task.target, task.gen, y.need, y.extensions, y.coordinator);
        use SchoolStatus::*;
        let status = y.agg.school_status.unwrap_or(Inactive);
        let positive = match status {
            InEducation => Some(self.rng.weighted(&[
                (Destination::Education, 55),
                (Destination::Preparatory, if need == NeedLevel::C { 35 } else { 20 }),
                (
                    Destination::SpecialNeedsEducation,
                    if need == NeedLevel::C { 12 } else { 2 },
                ),
                (Destination::WorkAndEducation, 10),
            ])),
            Working => Some(
                self.rng
                    .weighted(&[(Destination::Work, 80), (Destination::WorkAndEducation, 20)]),
            ),
            Completed => Some(
                self.rng
                    .weighted(&[(Destination::Work, 50), (Destination::Education, 50)]),
            ),
            _ => None,
        };
        let (by, actor_role) = self.worker(yi);
        let actor = self.actor(by, actor_role);
        if let Some(destination) = positive {
            if !self.youth_command(
                yi,
                actor.clone(),
                CaseCommand::RecordDestination {
                    destination,
                    on: self.today,
                },
            ) {
                return;
            }
            if let Some(c) = coordinator.filter(|_| self.rng.chance(0.6)) {
                let coordinator_actor = self.actor(c, role::COORDINATOR);
                self.youth_command(
                    yi,
                    coordinator_actor,
                    CaseCommand::ReleaseCoordinator {
                        reason: ReleaseReason::Completed,
                    },
                );
            }
            let note = (*self.rng.pick(text::CLOSE_POSITIVE_NOTES)).to_owned();
            self.youth_command(
                yi,
                actor,
                CaseCommand::Close {
                    reason: CloseReason::PositiveDestination,
                    note,
                },
            );
            return;
        }
        if status == PrimarySchool {
            let later = self.rng.range(60, 180);
            self.schedule_in(later, yi, gen, Kind::Close);
            return;
        }
        if need != NeedLevel::A && extensions < 2 {
            if let Some(y) = self.youth_mut(yi) {
                y.extensions += 1;
            }
            let later = self.rng.range(90, 365);
            self.schedule_in(later, yi, gen, Kind::Close);
            return;
        }
        let reason = if need == NeedLevel::A {
            self.rng.weighted(&[
                (CloseReason::NoLongerNeeded, 80),
                (CloseReason::MovedAway, 10),
                (CloseReason::Other, 10),
            ])
        } else {
            self.rng.weighted(&[
                (CloseReason::NoLongerNeeded, 35),
                (CloseReason::Declined, 25),
                (CloseReason::Other, 20),
                (CloseReason::MovedAway, 20),
            ])
        };
        let destination = match reason {
            CloseReason::MovedAway => Some(Destination::MovedAway),
            CloseReason::NoLongerNeeded if self.rng.chance(0.6) => Some(Destination::None),
            _ => None,
        };
        if let Some(destination) = destination {
            if !self.youth_command(
                yi,
                actor.clone(),
                CaseCommand::RecordDestination {
                    destination,
                    on: self.today,
                },
            ) {
                return;
            }
        }
        let note = match reason {
            CloseReason::MovedAway => "Moved to another municipality (CPR notice)".to_owned(),
            CloseReason::Declined => "The young person declines further effort".to_owned(),
            CloseReason::NoLongerNeeded => "No further need for a youth effort".to_owned(),
            _ => (*self.rng.pick(text::CLOSE_OTHER_NOTES)).to_owned(),
        };
        self.youth_command(yi, actor, CaseCommand::Close { reason, note });
    }
}
