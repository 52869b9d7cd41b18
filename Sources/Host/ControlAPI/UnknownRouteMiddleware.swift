import Hummingbird

/// Says which route does not exist, in the API's JSON error shape: an unknown route answered 404
/// with an empty body.
struct UnknownRouteMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && error.body == nil {
            throw HTTPError(
                .notFound,
                message: "no resource \(request.method) \(request.uri.path.prefix(200)); see GET /v1/directives, /v1/tasks, /v1/status, /v1/health, /metrics")
        }
    }
}
