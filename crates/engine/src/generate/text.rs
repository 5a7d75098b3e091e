//! Names and free texts: Danish-looking names, plan goals, actions, notes.
//!
//! The lists are short on purpose: fixtures need plausible text, not variety.

use kui_domain::values::Department;

use super::rng::Rng;

const BOYS: &[&str] = &[
    "Mads",
    "Frederik",
    "Oliver",
    "Lucas",
    "Noah",
    "William",
    "Emil",
    "Magnus",
    "Victor",
    "Mathias",
    "Christian",
    "Rasmus",
    "Jonas",
    "Tobias",
    "Sebastian",
    "Mikkel",
    "Kasper",
    "Andreas",
    "Malthe",
    "Elias",
    "Alexander",
    "Nikolaj",
    "Jakob",
    "Anton",
    "Marcus",
    "Oscar",
    "Carl",
    "Benjamin",
    "Ali",
    "Mohammad",
    "Yusuf",
    "Omar",
];

const GIRLS: &[&str] = &[
    "Emma", "Ida", "Clara", "Sofie", "Freja", "Anna", "Laura", "Mathilde", "Isabella", "Caroline", "Josefine",
    "Cecilie", "Maja", "Sara", "Julie", "Emilie", "Nanna", "Amalie", "Signe", "Louise", "Camilla", "Astrid", "Alma",
    "Karla", "Frida", "Liva", "Fatima", "Amina", "Zainab", "Aya",
];

const MEN: &[&str] = &[
    "Lars", "Jens", "Peter", "Henrik", "Søren", "Morten", "Thomas", "Martin", "Michael", "Jesper", "Anders", "Niels",
    "Brian", "Kim", "Torben", "Claus", "Jan", "Ole", "Bo", "Steffen",
];

const WOMEN: &[&str] = &[
    "Anne",
    "Kirsten",
    "Hanne",
    "Mette",
    "Susanne",
    "Lone",
    "Pia",
    "Bente",
    "Gitte",
    "Dorthe",
    "Tina",
    "Karina",
    "Helle",
    "Charlotte",
    "Maria",
    "Lene",
    "Trine",
    "Rikke",
    "Marianne",
    "Birgitte",
    "Louise",
    "Camilla",
];

const SURNAMES: &[&str] = &[
    "Jensen",
    "Nielsen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Petersen",
    "Madsen",
    "Kristensen",
    "Olsen",
    "Thomsen",
    "Christiansen",
    "Poulsen",
    "Johansen",
    "Møller",
    "Mortensen",
    "Knudsen",
    "Jakobsen",
    "Mikkelsen",
    "Frederiksen",
    "Lund",
    "Holm",
    "Schmidt",
    "Eriksen",
    "Kristiansen",
    "Simonsen",
    "Clausen",
    "Svendsen",
    "Andreasen",
    "Iversen",
    "Jeppesen",
    "Vestergaard",
    "Nissen",
    "Lauridsen",
    "Kjær",
    "Jessen",
    "Ahmed",
    "Hussein",
    "Yilmaz",
    "Ali",
];

const MIDDLE: &[&str] = &[
    "Bach", "Holm", "Lund", "Skov", "Dam", "Krogh", "Friis", "Juhl", "Høj", "Bech",
];

/// A young person's name; `male` follows the CPR number's last digit (odd for men).
pub(crate) fn youth_name(rng: &mut Rng, male: bool) -> String {
    let first = if male { *rng.pick(BOYS) } else { *rng.pick(GIRLS) };
    full_name(rng, first)
}

/// A staff member's name.
pub(crate) fn staff_name(rng: &mut Rng) -> String {
    let first = if rng.chance(0.7) {
        *rng.pick(WOMEN)
    } else {
        *rng.pick(MEN)
    };
    full_name(rng, first)
}

fn full_name(rng: &mut Rng, first: &str) -> String {
    let surname = *rng.pick(SURNAMES);
    if rng.chance(0.25) {
        format!("{first} {} {surname}", rng.pick(MIDDLE))
    } else {
        format!("{first} {surname}")
    }
}

/// Sub-actions a department typically adds to a plan or takes on at a meeting.
pub(crate) fn actions_of(department: Department) -> &'static [&'static str] {
    match department {
        Department::Uu => &[
            "Guidance interview on the choice of youth education",
            "Bridge-building visit to a vocational college",
            "Apply for FGU together with the young person",
            "Follow up on school attendance with the school",
            "Prepare the follow-up on the readiness assessment",
        ],
        Department::JobCentre => &[
            "First meeting with the job adviser",
            "Clarify education benefit (activity-ready)",
            "Arrange a mentor",
            "Company internship (virksomhedspraktik)",
            "Clarify income basis after 18",
        ],
        Department::ChildrenAndFamily => &[
            "Continue family treatment",
            "Contact person under Barnets lov",
            "Decide support after 18 (Barnets lov § 111)",
            "Assess aftercare (efterværn)",
            "Family meeting with the young person and the parents",
        ],
        Department::AdultDisability => &[
            "Assess housing support after 18",
            "Assess day services after 18",
            "Assess eligibility for STU",
            "Socio-educational support (SEL § 82)",
        ],
        Department::Ppr => &[
            "Psychological assessment",
            "Assess need for special-needs teaching",
            "Cognitive and learning assessment",
        ],
        Department::Health => &[
            "Wellbeing conversation with the school nurse",
            "Referral to the GP for a mental health assessment",
            "Guidance on sleep and daily rhythm",
        ],
        Department::SubstanceAbuse => &[
            "Outpatient substance abuse treatment",
            "Motivational interview about cannabis use",
        ],
        Department::YouthSchool => &[
            "Place in the youth school's special class",
            "Leisure-time activity at the youth school",
        ],
        Department::Other => &["Leisure-time job through the municipality", "Housing advice"],
    }
}

/// Goals of the education plan (under 18).
pub(crate) const EDUCATION_GOALS: &[&str] = &[
    "Complete grade 9 with the final exams",
    "Start an upper secondary education (STX, HF, HHX or HTX)",
    "Start a vocational education (EUD)",
    "Start preparatory basic education (FGU)",
    "Attend school at least 90 % of the time",
    "Complete grade 10",
    "A stable daily rhythm and sleep",
    "Start special-needs youth education (STU)",
];

/// Goals of the job plan (Min Plan, 18 and over).
pub(crate) const JOB_GOALS: &[&str] = &[
    "Start a youth education within 12 months",
    "A job of at least 18 hours a week",
    "Complete the resource course",
    "Clarify work capacity in a job clarification course",
    "Keep the apprenticeship (EGU)",
    "Stable housing",
    "Complete the current education",
    "Start preparatory basic education (FGU)",
];

pub(crate) const NEED_NOTES: [&[&str]; 3] = [
    &[
        "Ordinary guidance is enough",
        "On track; no need beyond ordinary guidance",
    ],
    &[
        "Single-discipline effort: UU counsellor follows up",
        "Single-discipline effort: job adviser follows up",
        "Needs guidance on the choice of education",
    ],
    &[
        "Multi-discipline effort: several departments involved",
        "Complex case across family services, school and health",
        "Multi-discipline effort: mental health and school absence",
    ],
];

pub(crate) const REFERRAL_NOTES: &[&str] = &[
    "Worrying absence reported by the school",
    "Not assessed education-ready; the family asks for help",
    "Dropped out and has not started anything new",
    "Known in family services; education perspective unclear",
    "Referred by the job centre on education benefit",
    "Came to the youth centre on their own",
    "Parents worried about isolation and absence",
    "Reported at risk by the vocational college",
];

pub(crate) const NOT_RELEVANT_REASONS: &[&str] = &[
    "A single-discipline effort is enough",
    "The young person's network covers the need",
    "An existing contact person in family services covers it",
    "The UU counsellor follows the young person closely",
];

pub(crate) const DECLINE_NOTES: &[&str] = &[
    "Does not want another adult in the case",
    "Parents decline on behalf of the family",
    "Wants to manage on their own for now",
    "Already has a good contact at the school",
];

pub(crate) const DOCUMENTATION: &[&str] = &[
    "Statement from the school",
    "PPR assessment",
    "Statement from the GP",
    "Statement from the job centre",
    "The young person's own wishes in writing",
];

pub(crate) const CLOSE_POSITIVE_NOTES: &[&str] = &[
    "Started a youth education",
    "In work and doing well",
    "Completed the plan's goals",
];

pub(crate) const CLOSE_OTHER_NOTES: &[&str] = &[
    "Transferred to adult social services",
    "Effort ended by agreement with the young person",
    "No contact for several months",
];

pub(crate) const CANCEL_REASONS: &[&str] = &[
    "The chair is ill",
    "Too few participants",
    "Clashes with the municipal council meeting",
];

pub(crate) const EVALUATION_NOTES: &[&str] = &[
    "Well prepared cases; clear who does what",
    "Too little time for the complex cases",
    "The young person's wishes were clear in all cases",
    "Missing documentation delayed two decisions",
    "Good attendance from all three administrations",
];

pub(crate) const TRANSITION_NOTES: &[&str] = &[
    "Expects housing support and day services after 18",
    "Updated at the half-yearly review",
    "Updated before the coordination meeting",
    "Expects socio-educational support after 18",
];
