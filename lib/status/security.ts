// Security headers of every answer: a strict CSP (same-origin only, no inline code), no framing, no sniffing.
import type { MiddlewareHandler } from "hono";
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

/**
 * Secure-headers middleware with {@link CSP}, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`, and a
 * Permissions-Policy that turns off the powerful features the page never uses.
 * @example app.use(securityHeaders());
 */
export function securityHeaders(): MiddlewareHandler {
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
