//! HTTP status codes and their texts. Go: net/http status.go.

/// 100 Continue. Go: `http.StatusContinue`.
pub const STATUS_CONTINUE: u16 = 100;
/// 101 Switching Protocols. Go: `http.StatusSwitchingProtocols`.
pub const STATUS_SWITCHING_PROTOCOLS: u16 = 101;
/// 102 Processing. Go: `http.StatusProcessing`.
pub const STATUS_PROCESSING: u16 = 102;
/// 103 Early Hints. Go: `http.StatusEarlyHints`.
pub const STATUS_EARLY_HINTS: u16 = 103;
/// 200 OK. Go: `http.StatusOK`.
pub const STATUS_OK: u16 = 200;
/// 201 Created. Go: `http.StatusCreated`.
pub const STATUS_CREATED: u16 = 201;
/// 202 Accepted. Go: `http.StatusAccepted`.
pub const STATUS_ACCEPTED: u16 = 202;
/// 203 Non-Authoritative Information. Go: `http.StatusNonAuthoritativeInfo`.
pub const STATUS_NON_AUTHORITATIVE_INFO: u16 = 203;
/// 204 No Content. Go: `http.StatusNoContent`.
pub const STATUS_NO_CONTENT: u16 = 204;
/// 205 Reset Content. Go: `http.StatusResetContent`.
pub const STATUS_RESET_CONTENT: u16 = 205;
/// 206 Partial Content. Go: `http.StatusPartialContent`.
pub const STATUS_PARTIAL_CONTENT: u16 = 206;
/// 207 Multi-Status. Go: `http.StatusMultiStatus`.
pub const STATUS_MULTI_STATUS: u16 = 207;
/// 208 Already Reported. Go: `http.StatusAlreadyReported`.
pub const STATUS_ALREADY_REPORTED: u16 = 208;
/// 226 IM Used. Go: `http.StatusIMUsed`.
pub const STATUS_IM_USED: u16 = 226;
/// 300 Multiple Choices. Go: `http.StatusMultipleChoices`.
pub const STATUS_MULTIPLE_CHOICES: u16 = 300;
/// 301 Moved Permanently. Go: `http.StatusMovedPermanently`.
pub const STATUS_MOVED_PERMANENTLY: u16 = 301;
/// 302 Found. Go: `http.StatusFound`.
pub const STATUS_FOUND: u16 = 302;
/// 303 See Other. Go: `http.StatusSeeOther`.
pub const STATUS_SEE_OTHER: u16 = 303;
/// 304 Not Modified. Go: `http.StatusNotModified`.
pub const STATUS_NOT_MODIFIED: u16 = 304;
/// 305 Use Proxy. Go: `http.StatusUseProxy`.
pub const STATUS_USE_PROXY: u16 = 305;
/// 307 Temporary Redirect. Go: `http.StatusTemporaryRedirect`.
pub const STATUS_TEMPORARY_REDIRECT: u16 = 307;
/// 308 Permanent Redirect. Go: `http.StatusPermanentRedirect`.
pub const STATUS_PERMANENT_REDIRECT: u16 = 308;
/// 400 Bad Request. Go: `http.StatusBadRequest`.
pub const STATUS_BAD_REQUEST: u16 = 400;
/// 401 Unauthorized. Go: `http.StatusUnauthorized`.
pub const STATUS_UNAUTHORIZED: u16 = 401;
/// 402 Payment Required. Go: `http.StatusPaymentRequired`.
pub const STATUS_PAYMENT_REQUIRED: u16 = 402;
/// 403 Forbidden. Go: `http.StatusForbidden`.
pub const STATUS_FORBIDDEN: u16 = 403;
/// 404 Not Found. Go: `http.StatusNotFound`.
pub const STATUS_NOT_FOUND: u16 = 404;
/// 405 Method Not Allowed. Go: `http.StatusMethodNotAllowed`.
pub const STATUS_METHOD_NOT_ALLOWED: u16 = 405;
/// 406 Not Acceptable. Go: `http.StatusNotAcceptable`.
pub const STATUS_NOT_ACCEPTABLE: u16 = 406;
/// 407 Proxy Authentication Required. Go: `http.StatusProxyAuthRequired`.
pub const STATUS_PROXY_AUTH_REQUIRED: u16 = 407;
/// 408 Request Timeout. Go: `http.StatusRequestTimeout`.
pub const STATUS_REQUEST_TIMEOUT: u16 = 408;
/// 409 Conflict. Go: `http.StatusConflict`.
pub const STATUS_CONFLICT: u16 = 409;
/// 410 Gone. Go: `http.StatusGone`.
pub const STATUS_GONE: u16 = 410;
/// 411 Length Required. Go: `http.StatusLengthRequired`.
pub const STATUS_LENGTH_REQUIRED: u16 = 411;
/// 412 Precondition Failed. Go: `http.StatusPreconditionFailed`.
pub const STATUS_PRECONDITION_FAILED: u16 = 412;
/// 413 Request Entity Too Large. Go: `http.StatusRequestEntityTooLarge`.
pub const STATUS_REQUEST_ENTITY_TOO_LARGE: u16 = 413;
/// 414 Request URI Too Long. Go: `http.StatusRequestURITooLong`.
pub const STATUS_REQUEST_URI_TOO_LONG: u16 = 414;
/// 415 Unsupported Media Type. Go: `http.StatusUnsupportedMediaType`.
pub const STATUS_UNSUPPORTED_MEDIA_TYPE: u16 = 415;
/// 416 Requested Range Not Satisfiable. Go: `http.StatusRequestedRangeNotSatisfiable`.
pub const STATUS_REQUESTED_RANGE_NOT_SATISFIABLE: u16 = 416;
/// 417 Expectation Failed. Go: `http.StatusExpectationFailed`.
pub const STATUS_EXPECTATION_FAILED: u16 = 417;
/// 418 I'm a teapot. Go: `http.StatusTeapot`.
pub const STATUS_TEAPOT: u16 = 418;
/// 421 Misdirected Request. Go: `http.StatusMisdirectedRequest`.
pub const STATUS_MISDIRECTED_REQUEST: u16 = 421;
/// 422 Unprocessable Entity. Go: `http.StatusUnprocessableEntity`.
pub const STATUS_UNPROCESSABLE_ENTITY: u16 = 422;
/// 423 Locked. Go: `http.StatusLocked`.
pub const STATUS_LOCKED: u16 = 423;
/// 424 Failed Dependency. Go: `http.StatusFailedDependency`.
pub const STATUS_FAILED_DEPENDENCY: u16 = 424;
/// 425 Too Early. Go: `http.StatusTooEarly`.
pub const STATUS_TOO_EARLY: u16 = 425;
/// 426 Upgrade Required. Go: `http.StatusUpgradeRequired`.
pub const STATUS_UPGRADE_REQUIRED: u16 = 426;
/// 428 Precondition Required. Go: `http.StatusPreconditionRequired`.
pub const STATUS_PRECONDITION_REQUIRED: u16 = 428;
/// 429 Too Many Requests. Go: `http.StatusTooManyRequests`.
pub const STATUS_TOO_MANY_REQUESTS: u16 = 429;
/// 431 Request Header Fields Too Large. Go: `http.StatusRequestHeaderFieldsTooLarge`.
pub const STATUS_REQUEST_HEADER_FIELDS_TOO_LARGE: u16 = 431;
/// 451 Unavailable For Legal Reasons. Go: `http.StatusUnavailableForLegalReasons`.
pub const STATUS_UNAVAILABLE_FOR_LEGAL_REASONS: u16 = 451;
/// 500 Internal Server Error. Go: `http.StatusInternalServerError`.
pub const STATUS_INTERNAL_SERVER_ERROR: u16 = 500;
/// 501 Not Implemented. Go: `http.StatusNotImplemented`.
pub const STATUS_NOT_IMPLEMENTED: u16 = 501;
/// 502 Bad Gateway. Go: `http.StatusBadGateway`.
pub const STATUS_BAD_GATEWAY: u16 = 502;
/// 503 Service Unavailable. Go: `http.StatusServiceUnavailable`.
pub const STATUS_SERVICE_UNAVAILABLE: u16 = 503;
/// 504 Gateway Timeout. Go: `http.StatusGatewayTimeout`.
pub const STATUS_GATEWAY_TIMEOUT: u16 = 504;
/// 505 HTTP Version Not Supported. Go: `http.StatusHTTPVersionNotSupported`.
pub const STATUS_HTTP_VERSION_NOT_SUPPORTED: u16 = 505;
/// 506 Variant Also Negotiates. Go: `http.StatusVariantAlsoNegotiates`.
pub const STATUS_VARIANT_ALSO_NEGOTIATES: u16 = 506;
/// 507 Insufficient Storage. Go: `http.StatusInsufficientStorage`.
pub const STATUS_INSUFFICIENT_STORAGE: u16 = 507;
/// 508 Loop Detected. Go: `http.StatusLoopDetected`.
pub const STATUS_LOOP_DETECTED: u16 = 508;
/// 510 Not Extended. Go: `http.StatusNotExtended`.
pub const STATUS_NOT_EXTENDED: u16 = 510;
/// 511 Network Authentication Required. Go: `http.StatusNetworkAuthenticationRequired`.
pub const STATUS_NETWORK_AUTHENTICATION_REQUIRED: u16 = 511;

/// The text for a status code (`404` -> `Not Found`), or "" if the code is unknown.
///
/// Go: `http.StatusText`.
///
/// ```
/// use gonet::net::http;
/// assert_eq!(http::status_text(http::STATUS_NOT_FOUND), "Not Found");
/// assert_eq!(http::status_text(299), "");
/// ```
pub fn status_text(code: u16) -> &'static str {
    match code {
        STATUS_CONTINUE => "Continue",
        STATUS_SWITCHING_PROTOCOLS => "Switching Protocols",
        STATUS_PROCESSING => "Processing",
        STATUS_EARLY_HINTS => "Early Hints",
        STATUS_OK => "OK",
        STATUS_CREATED => "Created",
        STATUS_ACCEPTED => "Accepted",
        STATUS_NON_AUTHORITATIVE_INFO => "Non-Authoritative Information",
        STATUS_NO_CONTENT => "No Content",
        STATUS_RESET_CONTENT => "Reset Content",
        STATUS_PARTIAL_CONTENT => "Partial Content",
        STATUS_MULTI_STATUS => "Multi-Status",
        STATUS_ALREADY_REPORTED => "Already Reported",
        STATUS_IM_USED => "IM Used",
        STATUS_MULTIPLE_CHOICES => "Multiple Choices",
        STATUS_MOVED_PERMANENTLY => "Moved Permanently",
        STATUS_FOUND => "Found",
        STATUS_SEE_OTHER => "See Other",
        STATUS_NOT_MODIFIED => "Not Modified",
        STATUS_USE_PROXY => "Use Proxy",
        STATUS_TEMPORARY_REDIRECT => "Temporary Redirect",
        STATUS_PERMANENT_REDIRECT => "Permanent Redirect",
        STATUS_BAD_REQUEST => "Bad Request",
        STATUS_UNAUTHORIZED => "Unauthorized",
        STATUS_PAYMENT_REQUIRED => "Payment Required",
        STATUS_FORBIDDEN => "Forbidden",
        STATUS_NOT_FOUND => "Not Found",
        STATUS_METHOD_NOT_ALLOWED => "Method Not Allowed",
        STATUS_NOT_ACCEPTABLE => "Not Acceptable",
        STATUS_PROXY_AUTH_REQUIRED => "Proxy Authentication Required",
        STATUS_REQUEST_TIMEOUT => "Request Timeout",
        STATUS_CONFLICT => "Conflict",
        STATUS_GONE => "Gone",
        STATUS_LENGTH_REQUIRED => "Length Required",
        STATUS_PRECONDITION_FAILED => "Precondition Failed",
        STATUS_REQUEST_ENTITY_TOO_LARGE => "Request Entity Too Large",
        STATUS_REQUEST_URI_TOO_LONG => "Request URI Too Long",
        STATUS_UNSUPPORTED_MEDIA_TYPE => "Unsupported Media Type",
        STATUS_REQUESTED_RANGE_NOT_SATISFIABLE => "Requested Range Not Satisfiable",
        STATUS_EXPECTATION_FAILED => "Expectation Failed",
        STATUS_TEAPOT => "I'm a teapot",
        STATUS_MISDIRECTED_REQUEST => "Misdirected Request",
        STATUS_UNPROCESSABLE_ENTITY => "Unprocessable Entity",
        STATUS_LOCKED => "Locked",
        STATUS_FAILED_DEPENDENCY => "Failed Dependency",
        STATUS_TOO_EARLY => "Too Early",
        STATUS_UPGRADE_REQUIRED => "Upgrade Required",
        STATUS_PRECONDITION_REQUIRED => "Precondition Required",
        STATUS_TOO_MANY_REQUESTS => "Too Many Requests",
        STATUS_REQUEST_HEADER_FIELDS_TOO_LARGE => "Request Header Fields Too Large",
        STATUS_UNAVAILABLE_FOR_LEGAL_REASONS => "Unavailable For Legal Reasons",
        STATUS_INTERNAL_SERVER_ERROR => "Internal Server Error",
        STATUS_NOT_IMPLEMENTED => "Not Implemented",
        STATUS_BAD_GATEWAY => "Bad Gateway",
        STATUS_SERVICE_UNAVAILABLE => "Service Unavailable",
        STATUS_GATEWAY_TIMEOUT => "Gateway Timeout",
        STATUS_HTTP_VERSION_NOT_SUPPORTED => "HTTP Version Not Supported",
        STATUS_VARIANT_ALSO_NEGOTIATES => "Variant Also Negotiates",
        STATUS_INSUFFICIENT_STORAGE => "Insufficient Storage",
        STATUS_LOOP_DETECTED => "Loop Detected",
        STATUS_NOT_EXTENDED => "Not Extended",
        STATUS_NETWORK_AUTHENTICATION_REQUIRED => "Network Authentication Required",
        _ => "",
    }
}
