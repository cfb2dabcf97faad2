// @vitest-environment node
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ch from '../../collector/core/channels';
import {
  AI_ASSISTANTS,
  CHANNELS,
  CLICK_IDS,
  EMAIL_PROVIDERS,
  FORUM_HOST_LABELS,
  FORUMS,
  HOST_PREFIXES,
  MAP_SERVICES,
  MAX_CLICK_ID,
  MAX_FIELD,
  MEDIUM_PREFIXES,
  MEDIUMS,
  REFERRAL_HOSTS,
  RETARGETING_NETWORKS,
  SEARCH_ENGINES,
  SOCIAL_NETWORKS,
  SOURCE_GROUPS,
  channelFromName,
  classifyChannel,
  type Channel,
  type Touch,
} from '../../collector/core/channels';

const LANDING = 'https://shop.example/landing';
const withParams = (params: Record<string, string>, base = LANDING) => `${base}?${new URLSearchParams(params)}`;
const classify = (url?: string, referrer?: string, siteHosts?: readonly string[]) =>
  classifyChannel({ url, referrer, siteHosts });
/** A concrete host for a table host: `google.*` → `google.de` (also before a path, as in `google.* /maps`). */
const concrete = (host: string, tld = 'de') => host.replace(/\.\*(?=\/|$)/, `.${tld}`);

// --- the doc renders the exported tables verbatim ------------------------------------------------------------------

const code = (s: string) => `\`${s}\``;
const list = (xs: readonly string[] | undefined) => (xs && xs.length ? xs.map(code).join(', ') : '—');
const render = (c: typeof ch) => ({
  channels: c.CHANNELS.map(code).join(' → '),
  clickIds: [
    '| param | value prefix | channel | source | strength | kept as `clickId` |',
    '| --- | --- | --- | --- | --- | --- |',
    ...c.CLICK_IDS.map(
      (r) =>
        `| ${code(r.param)} | ${r.prefix ? code(r.prefix) : '—'} | ${code(r.channel)} | ${r.source} | ${r.strength} | ${r.isId ? 'yes' : 'no'} |`,
    ),
  ].join('\n'),
  mediums: [
    '| utm_medium | channel | with a social source | with a search source | with a retargeting source |',
    '| --- | --- | --- | --- | --- |',
    ...c.MEDIUMS.map(
      (r) =>
        `| ${code(r.medium)} | ${code(r.channel)} | ${r.social ? code(r.social) : '—'} | ${r.search ? code(r.search) : '—'} | ${r.retargeting ? code(r.retargeting) : '—'} |`,
    ),
  ].join('\n'),
  prefixes: [
    '| utm_medium starts with | treated as |',
    '| --- | --- |',
    ...c.MEDIUM_PREFIXES.map(([p, m]) => `| ${code(p)} | ${code(m)} |`),
  ].join('\n'),
  sources: c.SOURCE_GROUPS.map(([, rules]) =>
    [
      '| source | referrer hosts | other utm_source spellings | Android apps |',
      '| --- | --- | --- | --- |',
      ...rules.map((r) => `| ${r.source} | ${list(r.hosts)} | ${list(r.aliases)} | ${list(r.apps)} |`),
    ].join('\n'),
  ),
  referralHosts: c.REFERRAL_HOSTS.map(code).join(', '),
  hostPrefixes: c.HOST_PREFIXES.map(code).join(', '),
  forumLabels: c.FORUM_HOST_LABELS.map((l) => code(`${l}.`)).join(', '),
});

describe('docs/channels.md', () => {
  const doc = readFileSync(new URL('../../docs/channels.md', import.meta.url), 'utf8');
  const r = render(ch);
  it.each([
    ['CHANNELS', r.channels],
    ['CLICK_IDS', r.clickIds],
    ['MEDIUMS', r.mediums],
    ['MEDIUM_PREFIXES', r.prefixes],
    ...r.sources.map((s, i) => [`SOURCE_GROUPS[${i}]`, s] as [string, string]),
    ['REFERRAL_HOSTS', r.referralHosts],
    ['HOST_PREFIXES', r.hostPrefixes],
    ['FORUM_HOST_LABELS', r.forumLabels],
  ])('contains the %s table exactly as exported', (_name, block) => {
    // Surrounded by blank lines (or line ends) so a row added to the doc but not to the code is caught too.
    const lines = block.split('\n');
    expect(doc).toContain(block);
    if (lines.length > 1)
      expect(doc).toMatch(new RegExp(`\\n\\n${block.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n\\n`));
  });
  it('describes every channel', () => {
    for (const c of CHANNELS) expect(doc).toContain(`| \`${c}\` |`);
  });
});

// --- the tables are consistent ---------------------------------------------------------------------------------------

describe('tables', () => {
  it('CHANNELS lists the 16 channels once, in the documented order', () => {
    expect(CHANNELS).toEqual([
      'direct',
      'organic_search',
      'paid_search',
      'maps',
      'social',
      'paid_social',
      'forum',
      'email',
      'sms',
      'push',
      'referral',
      'display',
      'retargeting',
      'affiliate',
      'offline',
      'other',
    ]);
  });

  it('every channel named in a table is a Channel', () => {
    const used = [
      ...CLICK_IDS.map((r) => r.channel),
      ...MEDIUMS.flatMap((r) => [r.channel, r.social, r.search, r.retargeting]).filter(
        (c): c is Channel => c !== undefined,
      ),
      ...SOURCE_GROUPS.map(([c]) => c),
    ];
    for (const c of used) expect(CHANNELS).toContain(c);
  });

  it('source names, spellings, hosts and apps are unique across all source tables', () => {
    const rules = SOURCE_GROUPS.flatMap(([, rs]) => rs);
    const names = rules.flatMap((r) => [r.source, ...(r.aliases ?? [])]);
    const hosts = [...rules.flatMap((r) => r.hosts), ...REFERRAL_HOSTS];
    const apps = rules.flatMap((r) => r.apps ?? []);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(hosts).size).toBe(hosts.length);
    expect(new Set(apps).size).toBe(apps.length);
    expect(hosts.length).toBeGreaterThan(60);
    expect(hosts.length).toBeLessThan(160);
  });

  it('table values are written in their normalised form', () => {
    const norm = (s: string) =>
      s
        .trim()
        .toLowerCase()
        .replace(/[\s_]+/g, '-');
    for (const m of MEDIUMS) expect(norm(m.medium)).toBe(m.medium);
    for (const [p, m] of MEDIUM_PREFIXES) {
      expect(norm(p)).toBe(p);
      expect(MEDIUMS.some((r) => r.medium === m)).toBe(true);
    }
    for (const [, rules] of SOURCE_GROUPS)
      for (const r of rules) for (const n of [r.source, ...(r.aliases ?? [])]) expect(norm(n)).toBe(n);
    expect(new Set(MEDIUMS.map((m) => m.medium)).size).toBe(MEDIUMS.length);
    expect(SOURCE_GROUPS.map(([, r]) => r)).toEqual([
      SEARCH_ENGINES,
      SOCIAL_NETWORKS,
      MAP_SERVICES,
      FORUMS,
      RETARGETING_NETWORKS,
      EMAIL_PROVIDERS,
      AI_ASSISTANTS,
    ]);
    for (const l of FORUM_HOST_LABELS) expect(l).toMatch(/^[a-z]+$/);
  });
});

// --- every row behaves as documented -------------------------------------------------------------------------------

describe('CLICK_IDS rows', () => {
  const value = (r: (typeof CLICK_IDS)[number]) => `${r.prefix ?? ''}Cj0KCQ-abc_123`;
  const firstRowFor = (param: string, v: string) =>
    CLICK_IDS.find((x) => x.param === param && (!x.prefix || v.startsWith(x.prefix)));

  it.each(CLICK_IDS.map((r) => [`${r.param}${r.prefix ? ` (${r.prefix}…)` : ''}`, r] as const))('%s alone', (_n, r) => {
    const v = value(r);
    expect(firstRowFor(r.param, v)).toBe(r);
    const t = classify(withParams({ [r.param]: v }));
    expect(t.channel).toBe(r.channel);
    expect(t.source).toBe(r.source);
    if (r.isId) expect(t.clickId).toBe(v);
    else expect(t.clickId).toBeUndefined();
    expect(t.referrerHost).toBeUndefined();
  });

  it.each(CLICK_IDS.map((r) => [r.param + (r.prefix ?? ''), r] as const))(
    '%s with an internal referrer still decides',
    (_n, r) => {
      const t = classify(withParams({ [r.param.toUpperCase()]: value(r) }), 'https://shop.example/cart');
      expect(t.channel).toBe(r.channel);
    },
  );

  const strong = CLICK_IDS.filter((r) => r.strength === 'strong');
  const hints = CLICK_IDS.filter((r) => r.strength === 'hint');

  it.each(strong.map((r) => [r.param + (r.prefix ?? ''), r] as const))(
    'strong %s beats an external referrer and a non-paid UTM',
    (_n, r) => {
      expect(classify(withParams({ [r.param]: value(r) }), 'https://www.facebook.com/').channel).toBe(r.channel);
      const t = classify(
        withParams({ [r.param]: value(r), utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'May' }),
      );
      expect(t).toMatchObject({ channel: r.channel, source: r.source, campaign: 'May' });
    },
  );

  it.each(hints.map((r) => [r.param, r] as const))('hint %s loses to an external referrer and to UTM', (_n, r) => {
    expect(classify(withParams({ [r.param]: value(r) }), 'https://blog.example.org/post')).toMatchObject({
      channel: 'referral',
      source: 'blog.example.org',
      clickId: value(r),
    });
    expect(
      classify(withParams({ [r.param]: value(r), utm_source: 'facebook', utm_medium: 'paid_social' })).channel,
    ).toBe('paid_social');
  });
});

describe('MEDIUMS rows', () => {
  it.each(MEDIUMS.map((r) => [r.medium, r] as const))('utm_medium=%s', (_m, r) => {
    const base = { utm_medium: r.medium };
    expect(classify(withParams({ ...base, utm_source: 'acme-partner' })).channel).toBe(r.channel);
    expect(classify(withParams({ ...base, utm_source: 'facebook' })).channel).toBe(r.social ?? r.channel);
    expect(classify(withParams({ ...base, utm_source: 'reddit' })).channel).toBe(r.social ?? r.channel);
    expect(classify(withParams({ ...base, utm_source: 'yandex' })).channel).toBe(r.search ?? r.channel);
    expect(classify(withParams({ ...base, utm_source: 'google-maps' })).channel).toBe(r.search ?? r.channel);
    expect(classify(withParams({ ...base, utm_source: 'criteo' })).channel).toBe(r.retargeting ?? r.channel);
    // case, whitespace, `_` and spaces are normalised
    const messy = `  ${r.medium.toUpperCase().replace(/-/g, '_')} `;
    expect(classify(withParams({ utm_medium: messy, utm_source: 'acme-partner' })).channel).toBe(r.channel);
    // the medium is reported lower-cased and trimmed
    expect(classify(withParams({ utm_medium: messy })).medium).toBe(messy.trim().toLowerCase());
    // channelFromName understands every medium
    expect(channelFromName(r.medium)).toBe(r.channel);
  });

  it.each(MEDIUM_PREFIXES.map(([p, m]) => [p, m] as const))('utm_medium starting with %s is read as %s', (p, m) => {
    const row = MEDIUMS.find((r) => r.medium === m);
    expect(classify(withParams({ utm_medium: `${p}_yandex_direct`, utm_source: 'acme' })).channel).toBe(row?.channel);
    expect(classify(withParams({ utm_medium: `${p}-x`, utm_source: 'vk' })).channel).toBe(row?.social ?? row?.channel);
  });

  it.each(MEDIUMS.filter((r) => r.channel !== 'other' || r.medium === 'other').map((r) => [r.medium, r] as const))(
    'utm_source=%s without a medium is read as the medium',
    (_m, r) => {
      expect(classify(withParams({ utm_source: r.medium })).channel).toBe(r.channel);
    },
  );
});

describe('source table rows', () => {
  const rows = SOURCE_GROUPS.flatMap(([channel, rules]) => rules.map((r) => [r.source, channel, r] as const));

  it.each(rows)('%s → %s', (_s, channel, r) => {
    for (const entry of r.hosts) {
      // `host/path` entries: the host, then the path under which it matches.
      const [host, path = ''] = entry.split(/(?=\/)/);
      const variants = host!.endsWith('.*')
        ? ['de', 'com', 'ru', 'co.uk', 'com.tr'].map((t) => concrete(host!, t))
        : [host!];
      for (const h of variants) {
        for (const prefix of ['', 'www.', 'sub.']) {
          for (const rest of path ? ['', '/', '/some/path?q=1'] : ['/some/path?q=1']) {
            const t = classify(LANDING, `https://${prefix}${h}${path}${rest}`);
            expect(t, `${prefix}${h}${path}${rest}`).toMatchObject({
              channel,
              source: r.source,
              medium: expect.any(String),
            });
            expect(t.referrerHost).toBe(prefix === 'sub.' ? `sub.${h}` : h);
          }
        }
        // Only under its path: the host elsewhere is something else (or an ordinary referrer).
        if (path) expect(classify(LANDING, `https://${h}${path}x/`).source).not.toBe(r.source);
      }
      // a host as utm_source resolves to the same source
      expect(classify(withParams({ utm_source: concrete(entry) }))).toMatchObject({ channel, source: r.source });
    }
    for (const name of [r.source, ...(r.aliases ?? []), r.source.toUpperCase()]) {
      expect(classify(withParams({ utm_source: name }))).toMatchObject({ channel, source: r.source });
    }
    for (const app of r.apps ?? []) {
      expect(classify(LANDING, `android-app://${app}/`)).toMatchObject({
        channel,
        source: r.source,
        referrerHost: app,
      });
    }
  });

  it.each(REFERRAL_HOSTS.map((h) => [h] as const))('%s is an ordinary referrer', (host) => {
    const h = concrete(host, 'ru');
    expect(classify(LANDING, `https://${h}/d/1`)).toEqual({
      channel: 'referral',
      source: h,
      medium: 'referral',
      referrerHost: h,
    });
  });

  it.each(HOST_PREFIXES.map((p) => [p] as const))('strips the %s prefix', (p) => {
    expect(classify(LANDING, `https://${p}example.org/`).referrerHost).toBe('example.org');
    expect(classify(LANDING, `https://${p}vk.com/`)).toMatchObject({
      channel: 'social',
      source: 'vk',
      referrerHost: 'vk.com',
    });
  });
});

// --- precedence and specific cases ----------------------------------------------------------------------------------

describe('precedence', () => {
  it('no referrer and no parameters → direct', () => {
    expect(classify(LANDING, '')).toEqual({ channel: 'direct' });
    expect(classify(LANDING)).toEqual({ channel: 'direct' });
    expect(classifyChannel({})).toEqual({ channel: 'direct' });
  });

  it('internal referrer → direct (landing host, siteHosts, origins, ports, www)', () => {
    expect(classify(LANDING, 'https://shop.example/cart')).toEqual({ channel: 'direct' });
    expect(classify(LANDING, 'https://www.shop.example/')).toEqual({ channel: 'direct' });
    expect(classify('/relative?x=1', 'https://shop.example/', ['shop.example'])).toEqual({ channel: 'direct' });
    expect(classify(undefined, 'https://shop.example/', ['https://shop.example'])).toEqual({ channel: 'direct' });
    expect(classify(undefined, 'http://localhost:3000/a', ['localhost:3000'])).toEqual({ channel: 'direct' });
    expect(classify(LANDING, 'https://checkout.shop.example/', ['shop.example']).channel).toBe('referral');
    expect(classify(LANDING, 'https://checkout.shop.example/', ['.shop.example'])).toEqual({ channel: 'direct' });
    expect(classify('/x', 'https://shop.example/').channel).toBe('referral'); // no way to know it is internal
  });

  it('isInternalReferrer: a referrer on the page URL’s own host (www. aside), which POST /collect does not store', () => {
    expect(ch.isInternalReferrer('https://shop.example/cart', LANDING)).toBe(true);
    expect(ch.isInternalReferrer('https://www.shop.example/', LANDING)).toBe(true);
    expect(ch.isInternalReferrer('http://shop.example:8080/a', LANDING)).toBe(true); // hosts, not origins
    expect(ch.isInternalReferrer('https://checkout.shop.example/', LANDING)).toBe(false);
    expect(ch.isInternalReferrer('https://www.google.com/', LANDING)).toBe(false);
    expect(ch.isInternalReferrer('android-app://com.google.android.gm/', LANDING)).toBe(false);
    expect(ch.isInternalReferrer('https://shop.example/', '/relative')).toBe(false); // no host to compare with
    expect(ch.isInternalReferrer('https://shop.example/', undefined)).toBe(false);
    expect(ch.isInternalReferrer('', LANDING)).toBe(false);
    // Whatever it calls internal, classification calls direct.
    for (const r of ['https://shop.example/cart', 'https://www.shop.example/', 'http://shop.example:8080/a'])
      expect(classify(LANDING, r)).toEqual({ channel: 'direct' });
  });

  it('internal referrer with UTM or click ids → they decide', () => {
    expect(
      classify(withParams({ utm_source: 'newsletter', utm_medium: 'email' }), 'https://shop.example/'),
    ).toMatchObject({
      channel: 'email',
      source: 'newsletter',
    });
    expect(classify(withParams({ gclid: 'g' }), 'https://shop.example/').channel).toBe('paid_search');
    expect(classify(withParams({ fbclid: 'f' }), 'https://shop.example/').channel).toBe('social');
  });

  it('click id beats referrer', () => {
    expect(classify(withParams({ gclid: 'abc' }), 'https://www.google.de/')).toEqual({
      channel: 'paid_search',
      source: 'google',
      medium: 'cpc',
      clickId: 'abc',
      referrerHost: 'google.de',
    });
    expect(classify(withParams({ yclid: '123' }), 'https://yandex.ru/')).toMatchObject({
      channel: 'paid_search',
      source: 'yandex',
    });
    expect(classify(withParams({ ttclid: 't' }), 'https://www.tiktok.com/')).toMatchObject({
      channel: 'paid_social',
      source: 'tiktok',
    });
  });

  it('UTM beats referrer', () => {
    expect(
      classify(
        withParams({ utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'Spring Sale' }),
        'https://www.google.com/',
      ),
    ).toEqual({
      channel: 'email',
      source: 'newsletter',
      medium: 'email',
      campaign: 'Spring Sale',
      referrerHost: 'google.com',
    });
    expect(classify(withParams({ utm_source: 'partner-blog' }), 'https://t.me/channel')).toMatchObject({
      channel: 'other',
      source: 'partner-blog',
    });
  });

  it('campaign-only UTM does not classify; its fields are kept', () => {
    expect(
      classify(withParams({ utm_campaign: 'launch', utm_term: 'Shoes', utm_content: 'hero' }), 'https://vk.com/'),
    ).toEqual({
      channel: 'social',
      source: 'vk',
      medium: 'social',
      campaign: 'launch',
      term: 'Shoes',
      content: 'hero',
      referrerHost: 'vk.com',
    });
  });

  it('a paid UTM medium refines a strong click id', () => {
    expect(classify(withParams({ gclid: 'g', utm_source: 'google', utm_medium: 'display' }))).toMatchObject({
      channel: 'display',
      source: 'google',
      clickId: 'g',
    });
    expect(classify(withParams({ gclid: 'g', utm_source: 'youtube', utm_medium: 'cpc' }))).toMatchObject({
      channel: 'paid_social',
      source: 'youtube',
    });
    expect(classify(withParams({ gclid: 'g', utm_source: 'adwords', utm_medium: 'cpc' }))).toMatchObject({
      channel: 'paid_search',
      source: 'adwords',
      medium: 'cpc',
    });
    expect(classify(withParams({ gclid: 'g', utm_medium: 'affiliate' }))).toMatchObject({
      channel: 'paid_search',
      source: 'google',
    });
  });

  it('fbclid alone is organic social; with Meta ads UTM it is paid social; the referrer names the app', () => {
    expect(classify(withParams({ fbclid: 'IwAR0' }))).toEqual({
      channel: 'social',
      source: 'facebook',
      medium: 'social',
      clickId: 'IwAR0',
    });
    expect(classify(withParams({ fbclid: 'IwAR0', utm_source: 'fb', utm_medium: 'cpc' }))).toMatchObject({
      channel: 'paid_social',
      source: 'facebook',
    });
    expect(classify(withParams({ fbclid: 'IwAR0' }), 'https://l.instagram.com/')).toMatchObject({
      channel: 'social',
      source: 'instagram',
    });
    expect(classify(withParams({ fbclid: 'IwAR0' }), 'https://lm.facebook.com/l.php')).toMatchObject({
      channel: 'social',
      source: 'facebook',
      referrerHost: 'facebook.com',
    });
  });

  it('ysclid is Yandex organic search, not paid', () => {
    expect(classify(withParams({ ysclid: 'lmv7jr4jhw515257938' }))).toMatchObject({
      channel: 'organic_search',
      source: 'yandex',
    });
    expect(classify(withParams({ ysclid: 'x' }), 'https://ya.ru/')).toMatchObject({
      channel: 'organic_search',
      source: 'yandex',
    });
    expect(classify(withParams({ ysclid: 'x', yclid: '1585' }))).toMatchObject({
      channel: 'paid_search',
      source: 'yandex',
      clickId: '1585',
    });
  });

  it('retargeting: the AdRoll click id adct, refined by nothing; a retargeting medium refines a paid click id', () => {
    expect(classify(withParams({ adct: 'A1b2' }), 'https://news.example/')).toEqual({
      channel: 'retargeting',
      source: 'adroll',
      medium: 'retargeting',
      clickId: 'A1b2',
      referrerHost: 'news.example',
    });
    // AdRoll recommends utm_medium=display: the click id says which kind of display it is.
    expect(classify(withParams({ adct: 'A', utm_source: 'adroll', utm_medium: 'display' })).channel).toBe(
      'retargeting',
    );
    // A Google Ads click stays paid search, unless the link says it is a remarketing campaign.
    expect(classify(withParams({ gclid: 'g' })).channel).toBe('paid_search');
    expect(classify(withParams({ gclid: 'g', utm_medium: 'cpc' })).channel).toBe('paid_search');
    expect(classify(withParams({ gclid: 'g', utm_source: 'google', utm_medium: 'remarketing' }))).toMatchObject({
      channel: 'retargeting',
      source: 'google',
      clickId: 'g',
    });
    expect(classify(withParams({ msclkid: 'm', utm_medium: 'retargeting' })).channel).toBe('retargeting');
    expect(classify(withParams({ gclid: 'g', adct: 'a' })).channel).toBe('paid_search');
  });

  it('Yahoo! JAPAN yclid values are Yahoo, others Yandex', () => {
    expect(classify(withParams({ yclid: 'YSS.1001214638.EAIaIQ' })).source).toBe('yahoo');
    expect(classify(withParams({ yclid: '15851755138457796607' })).source).toBe('yandex');
  });
});

describe('UTM rules', () => {
  it.each([
    [{ utm_source: 'google', utm_medium: 'cpc' }, 'paid_search', 'google'],
    [{ utm_source: 'Yandex_Direct', utm_medium: 'CPC' }, 'paid_search', 'yandex'],
    [{ utm_source: 'facebook', utm_medium: 'cpc' }, 'paid_social', 'facebook'],
    [{ utm_source: 'vk', utm_medium: 'cpm' }, 'paid_social', 'vk'],
    [{ utm_source: 'google', utm_medium: 'cpm' }, 'display', 'google'],
    [{ utm_source: 'criteo', utm_medium: 'banner' }, 'retargeting', 'criteo'],
    [{ utm_source: 'gdn', utm_medium: 'banner' }, 'display', 'gdn'],
    [{ utm_source: 'criteo' }, 'retargeting', 'criteo'],
    [{ utm_source: 'criteo', utm_medium: 'email' }, 'email', 'criteo'],
    [{ utm_source: 'facebook', utm_medium: 'retargeting' }, 'retargeting', 'facebook'],
    [{ utm_source: 'google', utm_medium: 'remarketing' }, 'retargeting', 'google'],
    [{ utm_source: 'vk', utm_medium: 'retargeting_cpc' }, 'retargeting', 'vk'],
    [{ utm_source: 'google', utm_medium: 'organic', utm_campaign: 'gbp' }, 'organic_search', 'google'],
    [{ utm_source: 'gmb' }, 'maps', 'google-maps'],
    [{ utm_source: 'google', utm_medium: 'maps' }, 'maps', 'google'],
    [{ utm_source: 'yandex.ru/maps' }, 'maps', 'yandex-maps'],
    [{ utm_source: '2gis', utm_medium: 'cpc' }, 'paid_search', '2gis'],
    [{ utm_source: 'reddit' }, 'forum', 'reddit'],
    [{ utm_source: 'reddit', utm_medium: 'cpc' }, 'paid_social', 'reddit'],
    [{ utm_source: 'reddit', utm_medium: 'social' }, 'social', 'reddit'],
    [{ utm_source: 'forum.example.com' }, 'forum', 'forum.example.com'],
    [{ utm_source: 'linkedin', utm_medium: 'paid' }, 'paid_social', 'linkedin'],
    [{ utm_source: 'bing', utm_medium: 'paid' }, 'paid_search', 'bing'],
    [{ utm_source: 'acme', utm_medium: 'paid' }, 'other', 'acme'],
    [{ utm_source: 'facebook', utm_medium: 'email' }, 'email', 'facebook'],
    [{ utm_source: 'facebook', utm_medium: 'story' }, 'social', 'facebook'],
    [{ utm_source: 'telegram' }, 'social', 'telegram'],
    [{ utm_source: 'google' }, 'organic_search', 'google'],
    [{ utm_source: 'newsletter' }, 'email', 'newsletter'],
    [{ utm_source: 'e_mail' }, 'email', 'e_mail'],
    [{ utm_source: 'sms' }, 'sms', 'sms'],
    [{ utm_source: 'mailchimp' }, 'email', 'mailchimp'],
    [{ utm_source: 'sendinblue' }, 'email', 'brevo'],
    [{ utm_source: 'chatgpt.com' }, 'referral', 'chatgpt'],
    [{ utm_source: 'l.facebook.com' }, 'social', 'facebook'],
    [{ utm_source: 'spring-promo' }, 'other', 'spring-promo'],
    [{ utm_medium: 'foo' }, 'other', undefined],
    [{ utm_medium: 'print', utm_source: 'Flyer ' }, 'offline', 'flyer'],
    [{ utm_medium: 'qr' }, 'offline', undefined],
    [{ utm_medium: 'partner' }, 'affiliate', undefined],
    [{ utm_medium: 'referral', utm_source: 'habr' }, 'referral', 'habr'],
  ] as const)('%o → %s', (params, channel, source) => {
    const t = classify(withParams(params));
    expect(t.channel).toBe(channel);
    expect(t.source).toBe(source);
  });

  it('reads UTM from a hash route and ignores empty values; the main query wins', () => {
    expect(classify('https://shop.example/#/p?utm_source=vk&utm_medium=cpm')).toMatchObject({
      channel: 'paid_social',
      source: 'vk',
    });
    expect(classify('https://shop.example/?utm_source=&utm_medium=%20')).toEqual({ channel: 'direct' });
    expect(classify('https://shop.example/?utm_medium=email#/p?utm_medium=sms').channel).toBe('email');
    expect(classify('/p?UTM_SOURCE=google&Utm_Medium=cpc').channel).toBe('paid_search');
  });

  it('keeps campaign case, trims, implies a medium when none is given', () => {
    expect(classify(withParams({ utm_source: ' Google ', utm_campaign: '  Black Friday ' }))).toEqual({
      channel: 'organic_search',
      source: 'google',
      medium: 'organic',
      campaign: 'Black Friday',
    });
  });
});

describe('referrers', () => {
  it.each([
    ['https://www.google.co.uk/', 'organic_search', 'google'],
    ['https://www.google.com.tr/search?q=x', 'organic_search', 'google'],
    ['https://news.google.com/', 'organic_search', 'google'],
    ['https://yandex.kz/', 'organic_search', 'yandex'],
    ['https://yandex.com.tr/', 'organic_search', 'yandex'],
    ['https://go.mail.ru/search?q=1', 'organic_search', 'mailru'],
    ['https://nova.rambler.ru/search', 'organic_search', 'rambler'],
    ['https://de.search.yahoo.com/', 'organic_search', 'yahoo'],
    ['https://search.seznam.cz/', 'organic_search', 'seznam'],
    ['https://mail.google.com/mail/u/0/', 'email', 'gmail'],
    ['https://e.mail.ru/inbox', 'email', 'mailru-mail'],
    ['https://mail.yandex.ru/', 'email', 'yandex-mail'],
    ['https://email.seznam.cz/', 'email', 'seznam-mail'],
    ['https://mail.rambler.ru/', 'email', 'rambler-mail'],
    ['https://dzen.ru/a/xyz', 'social', 'dzen'],
    ['https://zen.yandex.ru/media', 'social', 'dzen'],
    ['https://web.telegram.org/k/', 'social', 'telegram'],
    ['https://m.vk.com/wall1', 'social', 'vk'],
    ['https://away.vk.com/away.php', 'social', 'vk'],
    ['https://t.co/abc', 'social', 'x'],
    ['https://habr.com/ru/articles/1/', 'forum', 'habr'],
    ['https://www.reddit.com/r/coffee/', 'forum', 'reddit'],
    ['https://old.reddit.com/r/coffee/', 'forum', 'reddit'],
    ['https://ru.stackoverflow.com/questions/1', 'forum', 'stackexchange'],
    ['https://unix.stackexchange.com/q/1', 'forum', 'stackexchange'],
    ['https://news.ycombinator.com/item?id=1', 'forum', 'hackernews'],
    ['https://otvet.mail.ru/question/1', 'forum', 'otvet-mailru'],
    ['https://forum.example.com/t/mugs/42', 'forum', 'forum.example.com'],
    ['https://community.shopify.com/c/x', 'forum', 'community.shopify.com'],
    ['https://discuss.python.org/t/1', 'forum', 'discuss.python.org'],
    ['https://forum.net/', 'referral', 'forum.net'],
    ['https://forums.google.com/', 'organic_search', 'google'],
    ['https://www.google.com/maps/place/Mug+%26+Bean/@52.5,13.4,17z', 'maps', 'google-maps'],
    ['https://www.google.com/maps', 'maps', 'google-maps'],
    ['https://www.google.com/mapsearch', 'organic_search', 'google'],
    ['https://www.google.com/', 'organic_search', 'google'],
    ['https://maps.google.co.uk/', 'maps', 'google-maps'],
    ['https://yandex.ru/maps/213/moscow/', 'maps', 'yandex-maps'],
    ['https://yandex.ru/search/?text=mug', 'organic_search', 'yandex'],
    ['https://2gis.ru/moscow/firm/1', 'maps', '2gis'],
    ['https://www.bing.com/maps?q=mug', 'maps', 'bing-maps'],
    ['https://www.bing.com/search?q=mug', 'organic_search', 'bing'],
    ['https://maps.apple.com/?q=mug', 'maps', 'apple-maps'],
    ['https://www.waze.com/live-map/', 'maps', 'waze'],
    ['android-app://com.google.android.apps.maps/', 'maps', 'google-maps'],
    ['https://gemini.google.com/app', 'referral', 'gemini'],
    ['https://www.perplexity.ai/search', 'referral', 'perplexity'],
    ['https://mail.ru/', 'referral', 'mail.ru'],
    ['https://docs.google.com/document/d/1', 'referral', 'docs.google.com'],
    ['https://google.example.net/', 'referral', 'google.example.net'],
    ['https://notgoogle.de/', 'referral', 'notgoogle.de'],
    ['https://mastodon.example/@me', 'referral', 'mastodon.example'],
    ['https://192.168.0.1:8080/', 'referral', '192.168.0.1'],
    ['https://xn--d1acpjx3f.xn--p1ai/', 'referral', 'xn--d1acpjx3f.xn--p1ai'],
    ['https://яндекс.рф/', 'referral', 'xn--d1acpjx3f.xn--p1ai'],
    ['www.google.com', 'organic_search', 'google'],
    ['bing.com/search?q=1', 'organic_search', 'bing'],
    ['android-app://com.google.android.gm/', 'email', 'gmail'],
    ['android-app://org.telegram.messenger', 'social', 'telegram'],
    ['android-app://com.example.app/', 'referral', 'com.example.app'],
  ] as const)('%s → %s (%s)', (referrer, channel, source) => {
    expect(classify(LANDING, referrer)).toMatchObject({ channel, source });
  });

  it.each([
    'javascript:alert(1)',
    'data:text/html,hi',
    'about:blank',
    'file:///etc/passwd',
    'chrome-extension://abc/x',
    'not a url',
    '::::',
    'http://',
    'https://%zz/',
  ])('unusable referrer %j is treated as none', (referrer) => {
    expect(classify(LANDING, referrer)).toEqual({ channel: 'direct' });
  });
});

describe('limits', () => {
  it('cuts long fields to MAX_FIELD and drops click ids longer than MAX_CLICK_ID', () => {
    const long = 'x'.repeat(1000);
    const t = classify(
      withParams({ utm_source: long, utm_medium: long, utm_campaign: long, utm_term: long, utm_content: long }),
      `https://${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.com/`,
    );
    for (const k of ['source', 'medium', 'campaign', 'term', 'content', 'referrerHost'] as const)
      expect(t[k]?.length).toBe(MAX_FIELD);
    expect(classify(withParams({ gclid: 'g'.repeat(MAX_CLICK_ID) })).clickId).toHaveLength(MAX_CLICK_ID);
    // lower-casing may lengthen a string (`İ` → `i̇`): the cut comes after it
    const dotted = classify(withParams({ utm_source: 'İ'.repeat(300), utm_medium: 'İ'.repeat(300) }));
    expect(dotted.source?.length).toBe(MAX_FIELD);
    expect(dotted.medium?.length).toBe(MAX_FIELD);
    const tooLong = classify(withParams({ gclid: 'g'.repeat(MAX_CLICK_ID + 1) }));
    expect(tooLong).toEqual({ channel: 'paid_search', source: 'google', medium: 'cpc' });
  });
});

describe('channelFromName', () => {
  it.each([
    ['email', 'email'],
    ['e-mail', 'email'],
    ['E_Mail', 'email'],
    ['Email ', 'email'],
    ['newsletter', 'email'],
    ['sms', 'sms'],
    ['push', 'push'],
    ['web-push', 'push'],
    ['offline', 'offline'],
    ['print', 'offline'],
    ['organic_search', 'organic_search'],
    ['Organic Search', 'organic_search'],
    ['paid-social', 'paid_social'],
    ['CPC', 'paid_search'],
    ['cpm', 'display'],
    ['affiliates', 'affiliate'],
    ['direct', 'direct'],
    ['other', 'other'],
    ['server', undefined],
    ['browser', undefined],
    ['mobile', undefined],
    ['web', undefined],
    ['app', undefined],
    ['google', undefined],
    ['', undefined],
    ['   ', undefined],
    [undefined, undefined],
  ] as const)('%j → %s', (name, expected) => {
    expect(channelFromName(name)).toBe(expected);
  });

  it.each(CHANNELS.map((c) => [c] as const))('maps the channel %s to itself', (c) => {
    expect(channelFromName(c)).toBe(c);
    expect(channelFromName(c.toUpperCase().replace('_', ' '))).toBe(c);
  });
});

// --- hostile input --------------------------------------------------------------------------------------------------

const TOUCH_KEYS = new Set(['channel', 'source', 'medium', 'campaign', 'term', 'content', 'clickId', 'referrerHost']);
const assertValidTouch = (t: Touch) => {
  expect(CHANNELS).toContain(t.channel);
  for (const [k, v] of Object.entries(t)) {
    expect(TOUCH_KEYS.has(k)).toBe(true);
    expect(typeof v).toBe('string');
    expect((v as string).length).toBeLessThanOrEqual(k === 'clickId' ? MAX_CLICK_ID : MAX_FIELD);
    if (k !== 'channel') expect(v).not.toBe('');
  }
};

describe('hostile input', () => {
  it.each([
    ['huge url', { url: `https://shop.example/?${'utm_source=google&'.repeat(200_000)}` }],
    ['huge referrer', { referrer: `https://${'a.'.repeat(1_000_000)}com/` }],
    ['huge garbage', { url: '%'.repeat(2_000_000), referrer: '\u0000'.repeat(2_000_000) }],
    ['many params', { url: `/?${Array.from({ length: 20_000 }, (_, i) => `p${i}=${i}`).join('&')}&gclid=x` }],
    ['bad percent-encoding', { url: '/?utm_source=%E0%A4%A&utm_medium=%&gclid=%ZZ' }],
    ['lone surrogates', { url: '/?utm_source=\uD800&utm_campaign=\uDFFF', referrer: 'https://\uD800.com/' }],
    ['emoji and RTL', { url: '/?utm_source=🔥&utm_campaign=\u202Eevil', referrer: 'https://😀.example/' }],
    ['javascript url', { url: 'javascript:alert(1)//?utm_source=x', referrer: 'javascript:alert(document.cookie)' }],
    [
      'non-strings',
      { url: 42, referrer: { toString: (): string => 'https://google.com' }, siteHosts: [null, 1, {}, 'x'] },
    ],
    ['siteHosts not an array', { url: LANDING, referrer: 'https://google.com/', siteHosts: 'shop.example' }],
  ] as const)('%s', (_name, input) => {
    const started = performance.now();
    const t = classifyChannel(input as unknown as Parameters<typeof classifyChannel>[0]);
    assertValidTouch(t);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('null and undefined input', () => {
    expect(classifyChannel(null as never)).toEqual({ channel: 'direct' });
    expect(classifyChannel(undefined as never)).toEqual({ channel: 'direct' });
    expect(channelFromName(42 as never)).toBeUndefined();
  });

  const str = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc
      .tuple(
        fc.constantFrom('', 'https://shop.example/', '/', 'android-app://', 'javascript:', 'www.'),
        fc.array(
          fc.tuple(
            fc.constantFrom(
              'utm_source',
              'utm_medium',
              'utm_campaign',
              'gclid',
              'fbclid',
              'ysclid',
              'yclid',
              'UTM_TERM',
              'x',
            ),
            fc.oneof(
              fc.string({ unit: 'binary', maxLength: 50 }),
              fc.constantFrom('google', 'cpc', 'email', 'vk', 'YSS.1', 'paid', 'newsletter'),
            ),
          ),
          { maxLength: 6 },
        ),
      )
      .map(([base, ps]) => `${base}?${ps.map(([k, v]) => `${k}=${v}`).join('&')}`),
  );

  it('property: any strings → a valid Touch, never throws', () => {
    fc.assert(
      fc.property(
        fc.option(str, { nil: undefined }),
        fc.option(str, { nil: undefined }),
        fc.option(fc.array(str, { maxLength: 4 }), { nil: undefined }),
        (url, referrer, siteHosts) => {
          assertValidTouch(classifyChannel({ url, referrer, siteHosts }));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('property: channelFromName never throws and returns a Channel or undefined', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom(...CHANNELS, ...MEDIUMS.map((m) => m.medium))),
        (name) => {
          const c = channelFromName(name);
          expect(c === undefined || CHANNELS.includes(c)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
