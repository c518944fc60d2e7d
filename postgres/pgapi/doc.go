/*
Package pgapi puts webapi.Server (package webapi of the root module) over
the PostgreSQL stores, for a host with several sending nodes whose HTTP
API must show the one shared truth: any node answers any call the same.

# Which store is used where

A Server has a suppression list and a webhook history; both default to
the host's bstore database (Server.DB). On several nodes they are set to
the shared ones, and the rest stays on the node's own database:

	Methods                                  Storage on several nodes
	Suppression* (List, Add, Remove,         Server.SuppressionList: a *pgsuppression.Store
	  Present, Export, Import)               (it is a webapi.SuppressionList as it is)
	HookList, HookRetiredList, HookRetry,    Server.HookHistory: Hooks{Queue: a *riverhook.Queue}
	  HookCancel, and RetiredGet's webhooks
	Queue*, HoldRule*, RetiredList,          Server.DB: the node's own queue, retired
	  RetiredGet's message                   messages and hold rules

Each call to the PostgreSQL stores is its own transaction there (see
pgsuppression and riverhook), not one of Server.DB: SuppressionImport is
still all rows or none, and refuses a CSV with a row of another account
before writing anything (pgsuppression.Store.ImportCheck). A write made
through the API on one node is seen by every node at once; a suppression
the Handler adds while it fails a message reaches PostgreSQL through the
node's outbox and relay, after its transaction committed.

The suppression list decides with its own Normalizer and clock
(pgsuppression.Store.Normalizer and Now): give it the Server's clock, and
every node the same Normalizer.

# Webhooks on River

Hook history comes from River's job table (see riverhook, Hook history),
shown in the API's bstore shapes, hookqueue.Hook and HookRetired, so a
client cannot tell the queues apart:

  - Pending (HookList) is River's available, scheduled, retryable,
    running and pending states. NextAttempt is the job's scheduled time.
    ID is the River job ID, the cursor of the listing's pages.
  - Retired (HookRetiredList) is River's completed (RetireReason
    "delivered"), cancelled ("gone", "refused" or "failed" by the last
    attempt's outcome, else "canceled" by an operator) and discarded
    ("failed") states. LastActivity is when the job finished; KeepUntil
    when River's cleaner removes it (riverhook.Config.KeepRetired).
  - Attempt history (Results, Attempts) is riverhook's table of attempt
    records, one hookqueue.HookResult per request, with the same fields as
    the bstore queue's; an interrupted try is listed but not counted.
  - Credentials: a pending hook's Authorization and Secrets are listed
    empty, not "(redacted)": River's listing does not say whether they
    are set. A retired hook's Authorization and Signed say whether they
    were, as with the bstore queue.
  - HookRetry makes pending hooks due now (riverhook.Queue.RetryPending),
    as on the bstore queue; a given-up or canceled hook is sent again only
    with riverhook.Queue.Retry, which the API does not offer. HookCancel
    cancels pending hooks; one in flight may still reach its endpoint.
  - The job's WebhookID and River state are not shown: the API's types
    have no field for them. riverhook.Queue.List has both.
  - RetiredGet lists the webhooks with the message's account and
    QueueMsgID. Message IDs are per node: on River it also lists webhooks
    of another node's message with the same ID in the same account.

# Layout

  - doc.go: this documentation.
  - hooks.go: Hooks, riverhook.Queue as a webapi.HookHistory.
*/
package pgapi
