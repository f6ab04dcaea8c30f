//! Store conformance suite: every case is written once, as an `async fn(Store)`, and runs on
//! SQLite (a temporary file, always) and on PostgreSQL (one fresh database per test, when
//! `POSTE_TEST_PG_URL` is set; required when `CI` or `POSTE_REQUIRE_PG` is set).
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Tests measure real time: the server's clock fence (clippy.toml) is not for them.
#![allow(clippy::disallowed_methods)]

mod harness;

mod atomic;
mod concurrency;
mod enrollment;
mod events;
mod migrations;
mod names;
mod postes;
mod power;
mod register;
mod reports;
mod requests;
mod sessions;
mod spaces;
mod sqlite_only;
mod staff;
mod tokens;

/// Declares one test per case and backend: `sqlite::<case>` and `postgres::<case>`.
macro_rules! conformance {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    crate::harness::on_sqlite(crate::$module::$case).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    crate::harness::on_postgres(stringify!($case), crate::$module::$case).await;
                }
            )*
        }
    };
}

conformance! {
    sessions::create_batch_has_unique_codes,
    sessions::create_retries_on_taken_code,
    sessions::create_gives_up_after_20_collisions,
    sessions::create_zero_sessions,
    sessions::start_binds_unbound_session,
    sessions::start_on_bound_poste,
    sessions::start_on_wrong_poste_is_refused,
    sessions::start_after_valid_until_is_refused,
    sessions::start_twice_is_refused,
    sessions::start_unknown_is_not_found,
    sessions::add_time_while_waiting_and_active,
    sessions::add_time_on_ended_is_refused,
    sessions::end_session_ends_active_only,
    sessions::expire_session_at_deadline_once,
    sessions::expire_after_end_does_nothing,
    sessions::cancel_session_waiting_only,
    sessions::raise_warning_level_once_per_level,
    sessions::active_sessions_lists_running_ones,
    sessions::list_sessions_filters,
    sessions::list_sessions_name_filter_is_literal,
    postes::create_poste_and_find_it,
    postes::postes_are_read_by_their_ids,
    postes::poste_names_are_case_insensitive_unique,
    postes::record_poste_seen_creates_then_updates,
    postes::poste_by_ip_is_the_last_seen,
    postes::touch_postes_updates_last_seen_in_one_go,
    enrollment::enrollment_happy_path,
    enrollment::a_code_made_for_a_space_enrolls_a_new_workstation_there,
    enrollment::enrollment_code_reserved_for_a_name_is_logged,
    enrollment::one_time_code_is_used_up,
    enrollment::refused_request_does_not_use_the_code,
    enrollment::expired_code_is_refused,
    enrollment::reserved_code_matches_name_case_insensitively,
    enrollment::site_token_proof,
    enrollment::complete_while_pending_is_not_approved,
    enrollment::wrong_request_key_is_refused,
    enrollment::new_request_replaces_the_pending_one,
    enrollment::reset_allows_a_new_enrollment,
    enrollment::approve_requires_a_pending_request,
    enrollment::enrollment_of_unknown_names_is_not_found,
    enrollment::existing_postes_are_not_enrolled,
    tokens::token_lifecycle,
    tokens::token_names_unique_among_live_tokens,
    events::every_mutation_is_logged,
    events::events_after_pages_in_order,
    concurrency::racing_expire_and_end_one_wins,
    concurrency::racing_same_transition_one_wins,
    concurrency::racing_record_poste_seen_creates_one,
    concurrency::racing_enrollment_requests_create_one,
    concurrency::racing_requests_with_one_code_one_wins,
    concurrency::closed_store_is_unavailable,
    staff::staff_accounts_are_unique_case_insensitively,
    staff::refused_logins_and_unblocks_are_in_the_history,
    staff::staff_sessions_open_touch_and_close,
    staff::password_change_closes_every_session,
    staff::staff_accounts_are_disabled_enabled_and_deleted,
    staff::two_admins_cannot_disable_each_other,
    staff::postes_go_out_of_order_and_back,
    register::categories_are_saved_unique_and_deleted,
    register::visitors_are_found_updated_and_erased,
    register::visitor_cards_are_one_visitors,
    register::visitor_usage_counts_time_held_and_used,
    register::postes_are_renamed_located_and_retired,
    register::settings_are_stored_and_replaced,
    register::history_filters_by_kind_time_poste_and_actor,
    register::usage_rows_and_retention_purge,
    register::sessions_are_capped_at_closing_time,
    requests::time_requests_wait_once_and_are_answered_once,
    requests::time_requests_need_a_running_session,
    reports::a_month_is_claimed_once_and_retried_after_a_failure,
    power::power_orders_are_recorded_and_cut_sessions_short_only,
    power::a_scheduled_action_is_claimed_once_a_day,
    spaces::a_workshop_starts_a_session_on_each_workstation_together,
    spaces::spaces_are_named_uniquely_and_deleted_only_when_empty,
    spaces::a_code_starts_in_its_own_space_only,
    spaces::a_busy_workstation_does_not_move,
    spaces::staff_work_in_their_spaces_and_lists_show_those_only,
    spaces::a_space_has_its_own_settings_or_the_common_ones,
    names::names_are_compared_without_case_on_every_letter,
}
