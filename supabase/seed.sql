-- The seed of `supabase db reset` (and of `supabase db push --include-seed`), named in config.toml's [db.seed].
-- It stores no price: price_history holds only what the pipeline stored, and demo prices never sit beside real
-- ones. It checks instead that the migrations left the table the consumer and the browsers rely on, so that a
-- reset whose migrations went wrong stops here and says what is wrong.
do $$
begin
  if to_regclass('public.price_history') is null then
    raise exception 'seed: public.price_history is missing: the migrations did not run';
  end if;
  if not (select relrowsecurity from pg_class where oid = 'public.price_history'::regclass) then
    raise exception 'seed: row level security is off on public.price_history';
  end if;
  if has_table_privilege('anon', 'public.price_history', 'insert') then
    raise exception 'seed: anon may insert into public.price_history (the anon key ships to browsers)';
  end if;
  if not has_table_privilege('anon', 'public.price_history', 'select') then
    raise exception 'seed: anon may not read public.price_history';
  end if;
  if not has_table_privilege('service_role', 'public.price_history', 'insert') then
    raise exception 'seed: service_role may not write public.price_history (the consumer writes with it)';
  end if;
end
$$;
