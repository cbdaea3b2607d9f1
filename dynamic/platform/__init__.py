"""What every feature of the dynamic tier stands on: settings, the database and its models,
request security, page rendering, errors, metrics, rate limits, the outbox and its worker,
the catalog of each site, trust levels and the login itself. Nothing here imports a feature
package. See ARCHITECTURE.md, "The dynamic tier"."""
