-- Price history: one row per tick, identified by (asset, currency, source_updated_at), so replays are no-ops.
create table if not exists public.price_history (
  asset             text        not null,
  currency          text        not null,
  price             numeric     not null check (price > 0),
  market_cap        numeric,
  volume_24h        numeric,
  change_24h_pct    numeric,
  source            text        not null default 'coingecko',
  source_updated_at timestamptz not null,
  fetched_at        timestamptz not null,
  inserted_at       timestamptz not null default now(),
  primary key (asset, currency, source_updated_at)
);

comment on table public.price_history is 'belly-stream: one row per price tick (asset, currency, source time)';

-- The public anon key ships to browsers: it may read prices, never write them.
alter table public.price_history enable row level security;

drop policy if exists "price_history readable by everyone" on public.price_history;
create policy "price_history readable by everyone"
  on public.price_history for select
  to anon, authenticated
  using (true);

revoke insert, update, delete, truncate on public.price_history from anon, authenticated;
grant select on public.price_history to anon, authenticated;
-- service_role bypasses RLS on Supabase; the grant is what lets it write.
grant select, insert, update, delete on public.price_history to service_role;
