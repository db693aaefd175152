-- Opt-in: Supabase Realtime broadcasts the inserts into price_history (`bun run migrate --realtime`).
-- Not under migrations/, so that `supabase db push` never turns it on unasked; nothing records it, and
-- running it again changes nothing. Subscribers still read through row level security: the anon key
-- receives what its select policy lets it read, and nothing else.
do $$
begin
  -- A Supabase project has this publication already; plain Postgres gets an empty one.
  if not exists (select from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
  -- A publication "for all tables" holds price_history already and refuses "add table".
  if not exists (
    select from pg_publication p
    where p.pubname = 'supabase_realtime'
      and (p.puballtables or exists (
        select from pg_publication_tables t
        where t.pubname = p.pubname and t.schemaname = 'public' and t.tablename = 'price_history'))
  ) then
    alter publication supabase_realtime add table public.price_history;
  end if;
end
$$;
