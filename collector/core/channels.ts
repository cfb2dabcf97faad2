/**
 * Marketing channel of a session, from its landing page URL (UTM parameters, click ids) and its referrer.
 * Like GA4's default channel grouping, adapted to Europe and Russia (Yandex, VK, Telegram, Mail.ru …).
 *
 * Pure and runtime-agnostic (no `node:*`): runs in the collector on Node and on Workers. Every rule is a data table
 * below; docs/channels.md documents each table and the order of precedence, and test/core/channels.test.ts iterates
 * over the exported tables so the doc, the code and the tests cannot drift apart.
 */

export type Channel =
  | 'direct'
  | 'organic_search'
  | 'paid_search'
  | 'maps'
  | 'social'
  | 'paid_social'
  | 'forum'
  | 'email'
  | 'sms'
  | 'push'
  | 'referral'
  | 'display'
  | 'retargeting'
  | 'affiliate'
  | 'offline'
  | 'other';

/** Every channel, in this order (the order of the `Channel` union; documented in docs/channels.md). */
export const CHANNELS: readonly Channel[] = [
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
];

export interface Touch {
  channel: Channel;
  /** Normalised source: a known name (`google`, `yandex`, `vk`, `telegram` …), else the referrer host or utm_source. */
  source?: string;
  /** utm_medium (lower case), else the implied medium: `cpc`, `organic`, `social`, `email`, `referral`, `display`. */
  medium?: string;
  campaign?: string;
  term?: string;
  content?: string;
  /** Value of the first click id found on the landing URL (see CLICK_IDS), whichever rule decided the channel. */
  clickId?: string;
  /** Host of an external referrer, without `www.`/`m.`/`l.`/`lm.`; absent when the referrer is internal or missing. */
  referrerHost?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------------------------

/**
 * A click id appended to landing URLs by an ad platform or a search engine.
 * `strong`: only ever on paid clicks, so it decides the channel before UTM and referrer.
 * `hint`: added to organic clicks too, so it decides only when neither UTM nor an external referrer does.
 */
export interface ClickIdRule {
  readonly param: string;
  /** When set, the rule applies only to values starting with this prefix (checked before the generic row). */
  readonly prefix?: string;
  readonly channel: Channel;
  readonly source: string;
  readonly strength: 'strong' | 'hint';
  /** False when the parameter is a flag rather than a per-click id (it is then not reported as `clickId`). */
  readonly isId: boolean;
}

/** Click ids, first match wins (see docs/channels.md for the sources of each decision). */
export const CLICK_IDS: readonly ClickIdRule[] = [
  { param: 'gclid', channel: 'paid_search', source: 'google', strength: 'strong', isId: true },
  { param: 'gbraid', channel: 'paid_search', source: 'google', strength: 'strong', isId: true },
  { param: 'wbraid', channel: 'paid_search', source: 'google', strength: 'strong', isId: true },
  { param: 'dclid', channel: 'display', source: 'google', strength: 'strong', isId: true },
  { param: 'msclkid', channel: 'paid_search', source: 'bing', strength: 'strong', isId: true },
  { param: 'yclid', prefix: 'YSS.', channel: 'paid_search', source: 'yahoo', strength: 'strong', isId: true },
  { param: 'yclid', channel: 'paid_search', source: 'yandex', strength: 'strong', isId: true },
  { param: 'ttclid', channel: 'paid_social', source: 'tiktok', strength: 'strong', isId: true },
  { param: 'li_fat_id', channel: 'paid_social', source: 'linkedin', strength: 'strong', isId: true },
  { param: 'twclid', channel: 'paid_social', source: 'x', strength: 'strong', isId: true },
  { param: 'adct', channel: 'retargeting', source: 'adroll', strength: 'strong', isId: true },
  { param: 'gad_source', channel: 'paid_search', source: 'google', strength: 'strong', isId: false },
  { param: 'fbclid', channel: 'social', source: 'facebook', strength: 'hint', isId: true },
  { param: 'ysclid', channel: 'organic_search', source: 'yandex', strength: 'hint', isId: true },
  { param: 'srsltid', channel: 'organic_search', source: 'google', strength: 'hint', isId: true },
];

/**
 * utm_medium values (compared after lower-casing, trimming, and turning `_` and spaces into `-`), exact match.
 * `social`: the channel when utm_source is a known social network or forum; `search`: when it is a known search
 * engine or map service; `retargeting`: when it is a known retargeting network.
 */
export interface MediumRule {
  readonly medium: string;
  readonly channel: Channel;
  readonly social?: Channel;
  readonly search?: Channel;
  readonly retargeting?: Channel;
}

const paidBySource = { social: 'paid_social', search: 'paid_search', retargeting: 'retargeting' } as const;
const retargeter = { retargeting: 'retargeting' } as const;

export const MEDIUMS: readonly MediumRule[] = [
  // paid search (paid social when the source is a social network)
  { medium: 'cpc', channel: 'paid_search', social: 'paid_social', ...retargeter },
  { medium: 'ppc', channel: 'paid_search', social: 'paid_social', ...retargeter },
  { medium: 'paidsearch', channel: 'paid_search' },
  { medium: 'paid-search', channel: 'paid_search' },
  { medium: 'sem', channel: 'paid_search' },
  // paid social
  { medium: 'paid-social', channel: 'paid_social' },
  { medium: 'paidsocial', channel: 'paid_social' },
  { medium: 'social-paid', channel: 'paid_social' },
  { medium: 'social-ads', channel: 'paid_social' },
  // display (paid social when the source is a social network)
  { medium: 'display', channel: 'display', social: 'paid_social', ...retargeter },
  { medium: 'banner', channel: 'display', social: 'paid_social', ...retargeter },
  { medium: 'cpm', channel: 'display', social: 'paid_social', ...retargeter },
  { medium: 'programmatic', channel: 'display', ...retargeter },
  { medium: 'expandable', channel: 'display' },
  { medium: 'interstitial', channel: 'display' },
  // paid, network unknown: resolved by the source, else other
  { medium: 'paid', channel: 'other', ...paidBySource },
  { medium: 'ads', channel: 'other', ...paidBySource },
  { medium: 'cpv', channel: 'other', ...paidBySource },
  // retargeting, whatever the network
  { medium: 'retargeting', channel: 'retargeting' },
  { medium: 'remarketing', channel: 'retargeting' },
  { medium: 're-targeting', channel: 'retargeting' },
  { medium: 're-marketing', channel: 'retargeting' },
  // organic
  { medium: 'organic', channel: 'organic_search' },
  { medium: 'seo', channel: 'organic_search' },
  { medium: 'search', channel: 'organic_search' },
  { medium: 'social', channel: 'social' },
  { medium: 'social-network', channel: 'social' },
  { medium: 'social-media', channel: 'social' },
  { medium: 'sm', channel: 'social' },
  { medium: 'organic-social', channel: 'social' },
  { medium: 'maps', channel: 'maps' },
  { medium: 'map', channel: 'maps' },
  { medium: 'forum', channel: 'forum' },
  { medium: 'forums', channel: 'forum' },
  // owned messaging
  { medium: 'email', channel: 'email' },
  { medium: 'e-mail', channel: 'email' },
  { medium: 'newsletter', channel: 'email' },
  { medium: 'mailing', channel: 'email' },
  { medium: 'sms', channel: 'sms' },
  { medium: 'text', channel: 'sms' },
  { medium: 'push', channel: 'push' },
  { medium: 'web-push', channel: 'push' },
  { medium: 'webpush', channel: 'push' },
  { medium: 'push-notification', channel: 'push' },
  { medium: 'notification', channel: 'push' },
  // partners and links
  { medium: 'affiliate', channel: 'affiliate' },
  { medium: 'affiliates', channel: 'affiliate' },
  { medium: 'partner', channel: 'affiliate' },
  { medium: 'partners', channel: 'affiliate' },
  { medium: 'cpa', channel: 'affiliate' },
  { medium: 'referral', channel: 'referral' },
  { medium: 'link', channel: 'referral' },
  // offline
  { medium: 'offline', channel: 'offline' },
  { medium: 'print', channel: 'offline' },
  { medium: 'qr', channel: 'offline' },
  { medium: 'qr-code', channel: 'offline' },
  { medium: 'qrcode', channel: 'offline' },
  { medium: 'tv', channel: 'offline' },
  { medium: 'radio', channel: 'offline' },
  { medium: 'ooh', channel: 'offline' },
  { medium: 'outdoor', channel: 'offline' },
  { medium: 'billboard', channel: 'offline' },
  { medium: 'flyer', channel: 'offline' },
  { medium: 'direct-mail', channel: 'offline' },
  // explicit
  { medium: 'direct', channel: 'direct' },
  { medium: '(none)', channel: 'direct' },
  { medium: 'other', channel: 'other' },
];

/** Medium prefixes, tried when no exact row matches (e.g. `cpc-yandex-direct`, `paid-media`). */
export const MEDIUM_PREFIXES: readonly (readonly [prefix: string, medium: string])[] = [
  ['cpc', 'cpc'],
  ['ppc', 'ppc'],
  ['paid', 'paid'],
  ['retarget', 'retargeting'],
  ['remarket', 'remarketing'],
];

/**
 * A known source: its normalised name, the hosts it refers from (suffix match, so subdomains count; `name.*` stands
 * for any top-level or ccTLD-style suffix such as `.de`, `.co.uk`, `.com.tr`), other utm_source spellings, and the
 * Android package names it sends as `android-app://` referrers.
 */
export interface SourceRule {
  readonly source: string;
  readonly hosts: readonly string[];
  readonly aliases?: readonly string[];
  readonly apps?: readonly string[];
}

/** Search engines → organic_search (paid_search with a paid medium). */
export const SEARCH_ENGINES: readonly SourceRule[] = [
  { source: 'google', hosts: ['google.*'], apps: ['com.google.android.googlequicksearchbox'] },
  { source: 'bing', hosts: ['bing.com'] },
  {
    source: 'yandex',
    hosts: ['yandex.*', 'ya.ru'],
    aliases: ['ya', 'yandex-direct', 'yandexdirect'],
    apps: ['ru.yandex.searchplugin'],
  },
  { source: 'duckduckgo', hosts: ['duckduckgo.com'], aliases: ['ddg'] },
  { source: 'yahoo', hosts: ['search.yahoo.com', 'search.yahoo.co.jp'] },
  { source: 'baidu', hosts: ['baidu.com'] },
  { source: 'ecosia', hosts: ['ecosia.org'] },
  { source: 'brave', hosts: ['search.brave.com'], aliases: ['brave-search'] },
  { source: 'naver', hosts: ['naver.com'] },
  { source: 'seznam', hosts: ['seznam.cz'] },
  { source: 'mailru', hosts: ['go.mail.ru'] },
  { source: 'rambler', hosts: ['rambler.ru'] },
  { source: 'qwant', hosts: ['qwant.com'] },
  { source: 'startpage', hosts: ['startpage.com'] },
  { source: 'yep', hosts: ['yep.com'] },
  { source: 'sogou', hosts: ['sogou.com'] },
  { source: 'ask', hosts: ['ask.com'] },
  { source: 'aol', hosts: ['search.aol.com'] },
  { source: 'mojeek', hosts: ['mojeek.com'] },
  { source: 'kagi', hosts: ['kagi.com'] },
  { source: 'metager', hosts: ['metager.org', 'metager.de'] },
  { source: 'swisscows', hosts: ['swisscows.com'] },
  { source: 'daum', hosts: ['daum.net'] },
  { source: 'petal', hosts: ['petalsearch.com'] },
];

/** Social networks, messengers, blogs and video platforms → social (paid_social with a paid medium). */
export const SOCIAL_NETWORKS: readonly SourceRule[] = [
  {
    source: 'facebook',
    hosts: ['facebook.com', 'fb.com', 'fb.me', 'messenger.com', 'm.me'],
    aliases: ['fb'],
    apps: ['com.facebook.katana', 'com.facebook.orca', 'com.facebook.lite'],
  },
  { source: 'instagram', hosts: ['instagram.com', 'ig.me'], aliases: ['ig'], apps: ['com.instagram.android'] },
  { source: 'x', hosts: ['x.com', 'twitter.com', 't.co'], aliases: ['twitter'], apps: ['com.twitter.android'] },
  { source: 'linkedin', hosts: ['linkedin.com', 'lnkd.in'], apps: ['com.linkedin.android'] },
  {
    source: 'vk',
    hosts: ['vk.com', 'vk.ru', 'vk.me', 'vkontakte.ru'],
    aliases: ['vkontakte'],
    apps: ['com.vkontakte.android'],
  },
  { source: 'ok', hosts: ['ok.ru', 'odnoklassniki.ru'], aliases: ['odnoklassniki'], apps: ['ru.ok.android'] },
  {
    source: 'telegram',
    hosts: ['t.me', 'telegram.me', 'telegram.org'],
    aliases: ['tg'],
    apps: ['org.telegram.messenger'],
  },
  { source: 'whatsapp', hosts: ['whatsapp.com', 'wa.me'], apps: ['com.whatsapp'] },
  { source: 'viber', hosts: ['viber.com'] },
  { source: 'pinterest', hosts: ['pinterest.*', 'pin.it'], apps: ['com.pinterest'] },
  { source: 'tiktok', hosts: ['tiktok.com'], apps: ['com.zhiliaoapp.musically'] },
  { source: 'youtube', hosts: ['youtube.com', 'youtu.be'], aliases: ['yt'], apps: ['com.google.android.youtube'] },
  { source: 'threads', hosts: ['threads.net', 'threads.com'] },
  { source: 'bluesky', hosts: ['bsky.app'], aliases: ['bsky'] },
  { source: 'mastodon', hosts: ['mastodon.social'] },
  { source: 'discord', hosts: ['discord.com', 'discordapp.com', 'discord.gg'] },
  { source: 'slack', hosts: ['slack.com'] },
  { source: 'snapchat', hosts: ['snapchat.com'] },
  { source: 'tumblr', hosts: ['tumblr.com'] },
  { source: 'twitch', hosts: ['twitch.tv'] },
  { source: 'xing', hosts: ['xing.com'] },
  { source: 'dzen', hosts: ['dzen.ru', 'zen.yandex.*'], aliases: ['zen', 'yandex-zen'] },
  { source: 'rutube', hosts: ['rutube.ru'] },
  { source: 'livejournal', hosts: ['livejournal.com'], aliases: ['lj'] },
];

/**
 * Map services and business listings → maps (paid_search with a paid medium). A `host/path` entry matches that host
 * (and its subdomains, as any entry) only for paths at or below `/path`: `google.*` with the path `/maps` is Google
 * Maps, the rest of `google.*` is search.
 */
export const MAP_SERVICES: readonly SourceRule[] = [
  {
    source: 'google-maps',
    hosts: ['maps.google.*', 'google.*/maps'],
    aliases: ['googlemaps', 'gmb', 'gbp', 'google-business-profile', 'google-my-business'],
    apps: ['com.google.android.apps.maps'],
  },
  { source: 'apple-maps', hosts: ['maps.apple.com'], aliases: ['applemaps'] },
  {
    source: 'yandex-maps',
    hosts: ['maps.yandex.*', 'yandex.*/maps'],
    aliases: ['yandexmaps', 'yandex-karty'],
    apps: ['ru.yandex.yandexmaps'],
  },
  { source: '2gis', hosts: ['2gis.*'], aliases: ['dublgis'], apps: ['ru.dublgis.dgismobile'] },
  { source: 'bing-maps', hosts: ['bing.com/maps'], aliases: ['bingmaps'] },
  { source: 'waze', hosts: ['waze.com'], apps: ['com.waze'] },
  { source: 'here-wego', hosts: ['wego.here.com'] },
  { source: 'mapy', hosts: ['mapy.cz', 'mapy.com'], apps: ['cz.seznam.mapy'] },
  { source: 'openstreetmap', hosts: ['openstreetmap.org'], aliases: ['osm'] },
  { source: 'baidu-maps', hosts: ['map.baidu.com'] },
];

/** Forums and Q&A communities → forum (paid_social with a paid medium). See also FORUM_HOST_LABELS. */
export const FORUMS: readonly SourceRule[] = [
  { source: 'reddit', hosts: ['reddit.com', 'redd.it'], apps: ['com.reddit.frontpage'] },
  { source: 'quora', hosts: ['quora.com'] },
  {
    source: 'stackexchange',
    hosts: [
      'stackoverflow.com',
      'stackexchange.com',
      'superuser.com',
      'serverfault.com',
      'askubuntu.com',
      'mathoverflow.net',
      'stackapps.com',
    ],
    aliases: ['stackoverflow', 'stack-overflow'],
  },
  { source: 'habr', hosts: ['habr.com', 'habrahabr.ru'] },
  { source: 'pikabu', hosts: ['pikabu.ru'] },
  { source: 'hackernews', hosts: ['news.ycombinator.com'], aliases: ['hn', 'hacker-news'] },
  { source: '4pda', hosts: ['4pda.to', '4pda.ru'] },
  { source: 'otvet-mailru', hosts: ['otvet.mail.ru'] },
  { source: 'zhihu', hosts: ['zhihu.com'] },
  { source: 'lobsters', hosts: ['lobste.rs'] },
  { source: 'slashdot', hosts: ['slashdot.org'] },
];

/**
 * First host labels of forum software installations (Discourse, phpBB, vBulletin, Flarum … run as
 * `forum.example.com`, `community.example.com`, `discuss.example.org`): an external referrer whose host starts with one
 * of them, has at least three labels and matches no table is `forum`, with its host as the source.
 */
export const FORUM_HOST_LABELS: readonly string[] = ['forum', 'forums', 'community', 'discuss', 'discourse'];

/**
 * Retargeting networks (as utm_source; their ad clicks come from publisher pages, so no referrer host names them)
 * → retargeting, also with a paid medium.
 */
export const RETARGETING_NETWORKS: readonly SourceRule[] = [
  { source: 'criteo', hosts: [] },
  { source: 'adroll', hosts: [] },
  { source: 'rtbhouse', hosts: [], aliases: ['rtb-house'] },
  { source: 'rollworks', hosts: [] },
  { source: 'mntn', hosts: [], aliases: ['steelhouse'] },
];

/** Webmail hosts, mail apps and email service providers (as utm_source) → email. */
export const EMAIL_PROVIDERS: readonly SourceRule[] = [
  { source: 'gmail', hosts: ['mail.google.com'], aliases: ['googlemail'], apps: ['com.google.android.gm'] },
  {
    source: 'outlook',
    hosts: ['outlook.live.com', 'outlook.office.com', 'outlook.office365.com'],
    aliases: ['hotmail'],
    apps: ['com.microsoft.office.outlook'],
  },
  { source: 'yahoo-mail', hosts: ['mail.yahoo.com', 'mail.yahoo.co.jp'] },
  { source: 'mailru-mail', hosts: ['e.mail.ru', 'touch.mail.ru'], apps: ['ru.mail.mailapp'] },
  { source: 'yandex-mail', hosts: ['mail.yandex.*'], apps: ['ru.yandex.mail'] },
  { source: 'rambler-mail', hosts: ['mail.rambler.ru'] },
  { source: 'proton', hosts: ['mail.proton.me'], aliases: ['protonmail'] },
  { source: 'gmx', hosts: ['gmx.net', 'gmx.de', 'gmx.com'] },
  { source: 'seznam-mail', hosts: ['email.seznam.cz'] },
  { source: 'aol-mail', hosts: ['mail.aol.com'] },
  { source: 'zoho-mail', hosts: ['mail.zoho.com', 'mail.zoho.eu'] },
  { source: 'tuta', hosts: ['app.tuta.com', 'mail.tutanota.com'], aliases: ['tutanota'] },
  { source: 'mailchimp', hosts: [] },
  { source: 'sendgrid', hosts: [] },
  { source: 'sendpulse', hosts: [] },
  { source: 'unisender', hosts: [] },
  { source: 'brevo', hosts: [], aliases: ['sendinblue'] },
  { source: 'klaviyo', hosts: [] },
  { source: 'mailerlite', hosts: [] },
];

/** AI assistants → referral with a normalised source (no channel of their own; see docs/channels.md). */
export const AI_ASSISTANTS: readonly SourceRule[] = [
  { source: 'chatgpt', hosts: ['chatgpt.com', 'chat.openai.com'], aliases: ['openai'] },
  { source: 'perplexity', hosts: ['perplexity.ai'] },
  { source: 'claude', hosts: ['claude.ai'] },
  { source: 'gemini', hosts: ['gemini.google.com'] },
  { source: 'copilot', hosts: ['copilot.microsoft.com'] },
  { source: 'deepseek', hosts: ['chat.deepseek.com'] },
  { source: 'grok', hosts: ['grok.com'] },
  { source: 'mistral', hosts: ['chat.mistral.ai'] },
  { source: 'meta-ai', hosts: ['meta.ai'] },
  { source: 'you', hosts: ['you.com'] },
];

/** Subdomains of search engines that are ordinary referrers (source: the host). */
export const REFERRAL_HOSTS: readonly string[] = [
  'docs.google.com',
  'drive.google.com',
  'sites.google.com',
  'groups.google.com',
  'play.google.com',
  'market.yandex.*',
];

/** The groups of SourceRule tables with the channel each stands for, in lookup order. */
export const SOURCE_GROUPS: readonly (readonly [channel: Channel, rules: readonly SourceRule[]])[] = [
  ['organic_search', SEARCH_ENGINES],
  ['social', SOCIAL_NETWORKS],
  ['maps', MAP_SERVICES],
  ['forum', FORUMS],
  ['retargeting', RETARGETING_NETWORKS],
  ['email', EMAIL_PROVIDERS],
  ['referral', AI_ASSISTANTS],
];

/** Referrer host prefixes stripped before matching and reporting. */
export const HOST_PREFIXES: readonly string[] = ['www.', 'm.', 'l.', 'lm.'];

/** Longest source, medium, campaign, term, content and referrer host kept (longer values are cut). */
export const MAX_FIELD = 200;
/** Longest click id kept; longer ones are dropped, as a truncated id is useless. */
export const MAX_CLICK_ID = 500;
/** Longest URL or referrer read; the rest is ignored. */
export const MAX_URL = 16_384;

// ---------------------------------------------------------------------------------------------------------------
// Lookups built from the tables
// ---------------------------------------------------------------------------------------------------------------

interface Known {
  channel: Channel;
  /** Undefined: use the referrer host. */
  source: string | undefined;
}

const byHost = new Map<string, Known>();
/** `host/path` entries by host: the path prefixes under that host, longest first. */
const byHostPath = new Map<string, Array<readonly [path: string, known: Known]>>();
const byName = new Map<string, Known>();
const byApp = new Map<string, Known>();
const byMedium = new Map<string, MediumRule>();

for (const [channel, rules] of SOURCE_GROUPS) {
  for (const r of rules) {
    const k: Known = { channel, source: r.source };
    for (const h of r.hosts) {
      const slash = h.indexOf('/');
      if (slash < 0) byHost.set(h, k);
      else {
        const list = byHostPath.get(h.slice(0, slash)) ?? [];
        list.push([h.slice(slash), k]);
        list.sort((a, b) => b[0].length - a[0].length);
        byHostPath.set(h.slice(0, slash), list);
      }
    }
    for (const n of [r.source, ...(r.aliases ?? [])]) byName.set(n, k);
    for (const a of r.apps ?? []) byApp.set(a, k);
  }
}
for (const h of REFERRAL_HOSTS) byHost.set(h, { channel: 'referral', source: undefined });
for (const m of MEDIUMS) byMedium.set(m.medium, m);
const FORUM_LABELS: ReadonlySet<string> = new Set(FORUM_HOST_LABELS);

const SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'ac', 'gov', 'edu', 'ne', 'or', 'gob', 'go']);

/** True for labels that look like a public suffix: `de`, `com`, `co.uk`, `com.tr`. */
const isTldish = (labels: readonly string[]): boolean =>
  labels.length === 1
    ? /^[a-z]{2,3}$/.test(labels[0] as string)
    : labels.length === 2 && SECOND_LEVEL.has(labels[0] as string) && /^[a-z]{2}$/.test(labels[1] as string);

/** The entry of a table host key for a path: a `host/path` entry whose path is a prefix of it, else the host's. */
const entryFor = (key: string, path: string): Known | undefined => {
  const paths = byHostPath.get(key);
  if (paths) for (const [p, k] of paths) if (path === p || path.startsWith(`${p}/`)) return k;
  return byHost.get(key);
};

/**
 * Longest table entry matching the host or one of its parent domains (`name.*` entries included; at each, a
 * `host/path` entry before the host's), else a forum by its first label (FORUM_HOST_LABELS).
 */
const lookupHost = (host: string, path = '/'): Known | undefined => {
  const labels = host.split('.');
  if (labels.length > 32) return undefined;
  const p = path.toLowerCase();
  for (let i = 0; i < labels.length - 1; i++) {
    const hit = entryFor(labels.slice(i).join('.'), p);
    if (hit) return hit;
    for (let t = 1; t <= 2 && labels.length - i > t; t++) {
      if (!isTldish(labels.slice(labels.length - t))) continue;
      const wild = entryFor(`${labels.slice(i, labels.length - t).join('.')}.*`, p);
      if (wild) return wild;
    }
  }
  if (labels.length >= 3 && FORUM_LABELS.has(labels[0] as string)) return { channel: 'forum', source: undefined };
  return undefined;
};

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

const cut = (s: string, max = MAX_FIELD): string => (s.length > max ? s.slice(0, max) : s);

/** Lower case, trimmed, `_` and spaces as `-`: the form medium and source tables are written in. */
const norm = (s: string): string =>
  s
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '-');

const stripHost = (host: string): string => {
  let h = host.toLowerCase().replace(/\.$/, '');
  for (let n = 0; n < 4; n++) {
    const p = HOST_PREFIXES.find((x) => h.startsWith(x) && h.split('.').length > 2);
    if (!p) break;
    h = h.slice(p.length);
  }
  return h;
};

const parseUrl = (s: string, base?: string): URL | undefined => {
  try {
    return new URL(s, base);
  } catch {
    return undefined;
  }
};

const webHost = (u: URL | undefined): string | undefined =>
  u && (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname ? stripHost(u.hostname) : undefined;

/** Query parameters of the landing URL (plus those after `?` in a `#/route?…` fragment), lower-case keys. */
const readParams = (url: string): { params: Map<string, string>; host: string | undefined } => {
  const params = new Map<string, string>();
  const abs = parseUrl(url);
  const u = abs ?? parseUrl(url, 'https://relative.invalid/');
  if (!u) return { params, host: undefined };
  const add = (search: string) => {
    for (const [k, v] of new URLSearchParams(search)) {
      const key = k.toLowerCase();
      const val = v.trim();
      if (val && !params.has(key)) params.set(key, val);
    }
  };
  add(u.search);
  const q = u.hash.indexOf('?');
  if (q >= 0) add(u.hash.slice(q + 1));
  return { params, host: webHost(abs) };
};

type Ref = { kind: 'web'; host: string; path: string } | { kind: 'app'; app: string } | undefined;

const BARE_HOST = /^[a-z0-9-]+(\.[a-z0-9-]+)+\.?(:\d+)?([/?#]|$)/i;

const readReferrer = (referrer: string): Ref => {
  const s = referrer.trim();
  if (!s) return undefined;
  const u = parseUrl(s);
  const web = webHost(u) ? u : BARE_HOST.test(s) ? parseUrl(`https://${s}`) : undefined;
  const host = webHost(web);
  if (host) return { kind: 'web', host, path: web?.pathname ?? '/' };
  if (u?.protocol === 'android-app:' && u.hostname) return { kind: 'app', app: u.hostname.toLowerCase() };
  return undefined;
};

/** A siteHosts entry as a host: `shop.example`, `https://shop.example`, `shop.example:8080`; `.shop.example` keeps its dot. */
const siteHost = (raw: unknown): string | undefined => {
  if (typeof raw !== 'string') return undefined;
  const s = raw.trim().toLowerCase();
  if (!s) return undefined;
  if (s.startsWith('.')) return `.${stripHost(s.slice(1))}`;
  const ref = readReferrer(s);
  return ref?.kind === 'web' ? ref.host : stripHost(s.replace(/:\d+$/, ''));
};

const isInternal = (host: string, landingHost: string | undefined, siteHosts: readonly unknown[]): boolean => {
  if (host === landingHost) return true;
  for (const raw of siteHosts) {
    const h = siteHost(raw);
    if (h === undefined) continue;
    if (h.startsWith('.') ? host === h.slice(1) || host.endsWith(h) : host === h) return true;
  }
  return false;
};

/**
 * A referrer on the page's own host (`www.` and the like aside): a move within the site. The tag sends the referrer as
 * it is; POST /collect stores none of these (classification calls them internal either way).
 */
export const isInternalReferrer = (referrer: string, url: string | undefined): boolean => {
  const ref = readReferrer(referrer);
  return ref?.kind === 'web' && ref.host === webHost(parseUrl(url ?? ''));
};

const lookupSource = (utmSource: string): Known | undefined => {
  const n = norm(utmSource);
  const known = byName.get(n);
  if (known || !n.includes('.')) return known;
  // A host as the source (`chatgpt.com`, `l.facebook.com`, `google.com/maps`): looked up as a referrer would be.
  const ref = readReferrer(n);
  return ref?.kind === 'web' ? lookupHost(ref.host, ref.path) : undefined;
};

const lookupMedium = (medium: string): MediumRule | undefined => {
  const m = norm(medium);
  const hit = byMedium.get(m);
  if (hit) return hit;
  const p = MEDIUM_PREFIXES.find(([prefix]) => m.startsWith(prefix));
  return p ? byMedium.get(p[1]) : undefined;
};

/** The implied medium of a channel decided without utm_medium (GA4-style `google / organic`). */
const IMPLIED_MEDIUM: Partial<Record<Channel, string>> = {
  organic_search: 'organic',
  paid_search: 'cpc',
  social: 'social',
  paid_social: 'cpc',
  email: 'email',
  referral: 'referral',
  display: 'display',
  maps: 'maps',
  forum: 'forum',
  retargeting: 'retargeting',
};

/** Which source column of MEDIUMS applies to a known source of a channel. */
const SOURCE_KIND: Partial<Record<Channel, 'social' | 'search' | 'retargeting'>> = {
  social: 'social',
  forum: 'social',
  organic_search: 'search',
  maps: 'search',
  retargeting: 'retargeting',
};

/** Channel from UTM source and medium; undefined when neither is given. */
const classifyUtm = (
  source: string | undefined,
  medium: string | undefined,
): { channel: Channel; known?: Known } | undefined => {
  if (!source && !medium) return undefined;
  const known = source ? lookupSource(source) : undefined;
  const kind = known ? SOURCE_KIND[known.channel] : undefined;
  const rule = medium ? lookupMedium(medium) : undefined;
  if (rule) return { channel: (kind && rule[kind]) || rule.channel, known };
  if (known) return { channel: known.channel, known };
  // No (or an unknown) medium and an unknown source: the source may itself name a medium (`utm_source=newsletter`).
  const asMedium = !medium && source ? lookupMedium(source) : undefined;
  return { channel: asMedium?.channel ?? 'other' };
};

/** The paid channels: a UTM that classifies as one refines a strong click id (a retargeting id is never refined). */
const PAID: ReadonlySet<Channel> = new Set<Channel>(['paid_search', 'paid_social', 'display', 'retargeting']);

// ---------------------------------------------------------------------------------------------------------------
// API
// ---------------------------------------------------------------------------------------------------------------

/**
 * Classify a session's channel from its landing URL and referrer. Never throws; always returns a valid Touch.
 * Precedence (docs/channels.md): strong click id (refined by a paid UTM medium) → UTM → external referrer →
 * click-id hint (fbclid, ysclid, srsltid) → direct.
 *
 * @example
 * classifyChannel({ url: 'https://shop.example/?gclid=abc', referrer: 'https://www.google.de/' })
 * // → { channel: 'paid_search', source: 'google', medium: 'cpc', clickId: 'abc', referrerHost: 'google.de' }
 */
export const classifyChannel = (input: { url?: string; referrer?: string; siteHosts?: readonly string[] }): Touch => {
  try {
    return classify(input);
  } catch {
    return { channel: 'direct' };
  }
};

const classify = (input: { url?: string; referrer?: string; siteHosts?: readonly string[] }): Touch => {
  const url = typeof input?.url === 'string' ? input.url.slice(0, MAX_URL) : '';
  const referrer = typeof input?.referrer === 'string' ? input.referrer.slice(0, MAX_URL) : '';
  const siteHosts = Array.isArray(input?.siteHosts) ? input.siteHosts : [];

  const { params, host: landingHost } = readParams(url);
  const utm = (k: string) => {
    const v = params.get(`utm_${k}`);
    return v === undefined ? undefined : cut(v);
  };
  const utmSource = utm('source');
  const utmMedium = utm('medium');

  const touch: Touch = { channel: 'direct' };
  const campaign = utm('campaign');
  const term = utm('term');
  const content = utm('content');

  // Evidence: click ids and the referrer.
  let strong: ClickIdRule | undefined;
  let hint: ClickIdRule | undefined;
  let clickId: string | undefined;
  for (const r of CLICK_IDS) {
    const v = params.get(r.param);
    if (v === undefined || (r.prefix && !v.startsWith(r.prefix))) continue;
    if (r.strength === 'strong') strong ??= r;
    else hint ??= r;
    if (r.isId && clickId === undefined && v.length <= MAX_CLICK_ID) clickId = v;
  }
  const ref = readReferrer(referrer);
  let refKnown: Known | undefined;
  let refHost: string | undefined;
  if (ref?.kind === 'web' && !isInternal(ref.host, landingHost, siteHosts)) {
    refHost = cut(ref.host);
    refKnown = lookupHost(ref.host, ref.path) ?? { channel: 'referral', source: undefined };
  } else if (ref?.kind === 'app') {
    refHost = cut(ref.app);
    refKnown = byApp.get(ref.app) ?? { channel: 'referral', source: undefined };
  }

  const utmResult = classifyUtm(utmSource, utmMedium);
  const utmSourceName = utmResult?.known?.source ?? (utmSource ? cut(utmSource.toLowerCase()) : undefined);

  if (strong && (strong.channel === 'retargeting' || !(utmResult && PAID.has(utmResult.channel)))) {
    touch.channel = strong.channel;
    touch.source = strong.source;
    touch.medium = IMPLIED_MEDIUM[strong.channel];
  } else if (utmResult) {
    touch.channel = utmResult.channel;
    touch.source = utmSourceName;
    touch.medium = utmMedium ? cut(utmMedium.toLowerCase()) : IMPLIED_MEDIUM[utmResult.channel];
  } else if (refKnown) {
    touch.channel = refKnown.channel;
    touch.source = refKnown.source ?? refHost;
    touch.medium = IMPLIED_MEDIUM[refKnown.channel];
  } else if (hint) {
    touch.channel = hint.channel;
    touch.source = hint.source;
    touch.medium = IMPLIED_MEDIUM[hint.channel];
  }

  if (touch.source === undefined) delete touch.source;
  if (touch.medium === undefined) delete touch.medium;
  if (campaign !== undefined) touch.campaign = campaign;
  if (term !== undefined) touch.term = term;
  if (content !== undefined) touch.content = content;
  if (clickId !== undefined) touch.clickId = clickId;
  if (refHost !== undefined) touch.referrerHost = refHost;
  return touch;
};

const CHANNEL_SET: ReadonlySet<string> = new Set(CHANNELS);

/**
 * Map a free-form channel name (Segment's `context.channel`, a CRM field, a utm_medium) to a Channel, or undefined.
 * Delivery contexts that are not marketing channels (`browser`, `server`, `mobile`, `web`, `app`) give undefined.
 *
 * @example
 * channelFromName('E-Mail') // → 'email'
 * channelFromName('server') // → undefined
 */
export const channelFromName = (name: string | undefined): Channel | undefined => {
  if (typeof name !== 'string') return undefined;
  const s = name.slice(0, MAX_FIELD);
  if (!s.trim()) return undefined;
  const asChannel = s
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  if (CHANNEL_SET.has(asChannel)) return asChannel as Channel;
  return lookupMedium(s)?.channel;
};
