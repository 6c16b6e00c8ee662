//! Issue 11 and 12: a refusal takes as long whether or not the e-mail or the token prefix exists
//! (no oracle for which accounts exist), and the argon2 work behind a sign-in runs off the calling
//! (async) thread. A token is checked against a SHA-256 digest (microseconds): a known and an
//! unknown prefix must cost the same within a millisecond of CPU, far below a network's jitter.
//!
//! A test binary of its own, holding one test: what is measured is the CPU time of the whole
//! process, which no other test may share. CPU time, not the wall clock, is the work done, which a
//! loaded machine (CI, parallel builds) does not distort (the database's side of a lookup, in
//! another process, is one index probe either way).

mod common;

use std::time::Duration;

use modernize::fixtures::{ACME, demo_tenant};
use modernize::repo::RepoError;
use modernize::repo::users::{self, Password, TokenSecret, authenticate};
use nix::time::{ClockId, clock_gettime};
use sqlx::PgPool;

fn cpu(clock: ClockId) -> Duration {
    let t = clock_gettime(clock).expect("CPU clock");
    Duration::new(t.tv_sec() as u64, t.tv_nsec() as u32)
}

fn within_20_percent(a: Duration, b: Duration) -> bool {
    a.abs_diff(b).as_secs_f64() <= 0.2 * a.max(b).as_secs_f64()
}

#[sqlx::test(migrations = false)]
async fn refusals_take_as_long_for_unknown_accounts_and_tokens_and_argon2_runs_off_the_caller(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    demo_tenant(&mut conn, common::operator(), ACME).await.expect("A");
    let analyst = users::find_user_by_email(&mut conn, &ACME.email("analyst")).await.expect("analyst");
    let (token, _) = users::create_api_token(&mut conn, analyst.id, "timing", None).await.expect("token");
    let wrong = Password::parse("not the demo password".into()).expect("password");
    let known_email = ACME.email("analyst");
    let known_prefix = TokenSecret::new(format!("mdz_{}_{}", token.prefix, "0".repeat(48)));
    let unknown_prefix = TokenSecret::new(format!("mdz_{}_{}", "f".repeat(16), "0".repeat(48)));

    let mut refuse = async |case: usize| {
        let result = match case {
            0 => authenticate(&mut conn, &known_email, &wrong).await,
            1 => authenticate(&mut conn, "nobody@acme-retail.example", &wrong).await,
            2 => users::authenticate_token(&mut conn, &known_prefix).await,
            _ => users::authenticate_token(&mut conn, &unknown_prefix).await,
        };
        assert!(matches!(result, Err(RepoError::NotFound { .. })), "case {case}: {result:?}");
    };
    // Untimed first: the blocking threads' first argon2 runs page-fault in their 19 MiB.
    for case in [0, 1, 2, 3, 0, 1, 2, 3] {
        refuse(case).await;
    }
    // Interleaved tries, each in another order, the fastest of each case kept: the blocking pool
    // may hand work to its threads in turn, and a thread's allocator can cost a few ms more, so no
    // case may always come at the same place. Up to three rounds, one must agree (an oracle is a
    // factor of hundreds, 0.1 ms against 20 ms, in every round).
    const TRIES: usize = 8;
    let mut rounds = Vec::new();
    for _ in 0..3 {
        let mut process: [Vec<Duration>; 4] = Default::default();
        let mut caller = Duration::ZERO;
        for try_number in 0..TRIES {
            for place in 0..4 {
                // Rotated, and reversed every other try: each case at every place, after every other.
                let case =
                    if try_number % 2 == 0 { (place + try_number / 2) % 4 } else { (7 - place - try_number / 2) % 4 };
                let (start, start_thread) =
                    (cpu(ClockId::CLOCK_PROCESS_CPUTIME_ID), cpu(ClockId::CLOCK_THREAD_CPUTIME_ID));
                refuse(case).await;
                caller += cpu(ClockId::CLOCK_THREAD_CPUTIME_ID) - start_thread;
                process[case].push(cpu(ClockId::CLOCK_PROCESS_CPUTIME_ID) - start);
            }
        }
        let total: Duration = process.iter().flatten().sum();
        // The calling thread only waits for the blocking pool: argon2 is most of the work and
        // none of it is the caller's.
        assert!(caller * 4 < total, "argon2 ran on the calling thread: {caller:?} of {total:?} CPU");
        let [known, unknown, known_token, unknown_token] = process.map(|t| t.into_iter().min().unwrap_or_default());
        let agree = within_20_percent(known, unknown) && known_token.abs_diff(unknown_token) < Duration::from_millis(1);
        rounds.push(format!(
            "login: known e-mail {known:?}, unknown {unknown:?}; token: known prefix {known_token:?}, unknown {unknown_token:?}"
        ));
        if agree {
            return;
        }
    }
    panic!("refusals cost more or less CPU when the account or token exists:\n{}", rounds.join("\n"));
}
