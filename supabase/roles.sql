-- Supabase's standard API roles, created only where missing: a Supabase project has them, plain Postgres does not.
-- This is the CLI's custom roles file, run before the migrations by `supabase start` and `supabase db reset`,
-- by `supabase db push --include-roles`, and by `bun run migrate`; never a migration, so never in the history.
do $$
begin
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$$;
grant usage on schema public to anon, authenticated, service_role;
