-- The intermediate form of `tagtrail sql`: one query for every dialect. `@NAME(...)` are the
-- constructs whose spelling differs between engines; `{{name}}` are parts the compiler writes
-- (the window, the JSON flattening, the template rendering). src/sql/mod.rs prints it.
WITH
raw_records AS (
  SELECT
    @HASH(concat_ws('|', @SOURCE, COALESCE(eventid, ''), COALESCE(eventtime, ''), eventsource, eventname,
      COALESCE(awsregion, ''), COALESCE(recipientaccountid, ''), COALESCE(requestid, ''),
      COALESCE(@STRUCT_JSON(useridentity), ''), COALESCE(@STRUCT_JSON(resources), ''),
      COALESCE(errorcode, ''), COALESCE(errormessage, ''), COALESCE(sourceipaddress, ''), COALESCE(useragent, ''),
      COALESCE(requestparameters, ''), COALESCE(responseelements, ''), COALESCE(additionaleventdata, ''),
      COALESCE(serviceeventdetails, ''), COALESCE(readonly, ''), COALESCE(eventtype, ''),
      COALESCE(sharedeventid, ''), COALESCE(@STRUCT_JSON(addendum), ''))) AS rk,
    NULLIF(eventid, '') AS event_id,
    @TS(eventtime) AS event_time,
    eventsource AS event_source,
    eventname AS event_name,
    @REWRITE(eventname, '^(.*[^0-9])[0-9]{8}(v[0-9]+)?$', '$1') AS base_name,
    NULLIF(awsregion, '') AS aws_region,
    recipientaccountid AS recipient_account,
    useridentity AS ui,
    NULLIF(useridentity.accesskeyid, '') AS access_key_id,
    NULLIF(sharedeventid, '') AS shared_event_id,
    addendum IS NOT NULL AS amends,
    NULLIF(addendum.originaleventid, '') AS original_event_id,
    NULLIF(errorcode, '') AS error_code,
    errormessage AS error_message,
    CASE WHEN lower(readonly) = 'true' THEN true WHEN lower(readonly) = 'false' THEN false END AS read_only,
    eventtype AS event_type,
    resources,
    requestparameters,
    responseelements,
    additionaleventdata,
    serviceeventdetails,
    -- The request and response as rules read them: a service event logs neither, and its
    -- details stand in (ruleset::record).
    CASE WHEN (requestparameters IS NULL OR trim(requestparameters) = 'null') AND eventtype = 'AwsServiceEvent'
      THEN serviceeventdetails ELSE requestparameters END AS request_text,
    CASE WHEN (responseelements IS NULL OR trim(responseelements) = 'null') AND eventtype = 'AwsServiceEvent'
      THEN additionaleventdata ELSE responseelements END AS response_text,
    @SOURCE AS source
  FROM cloudtrail
  WHERE eventsource IS NOT NULL AND eventname IS NOT NULL {{window}}
),
-- A record is known by its content: one given twice in a file counts once.
records AS (
  SELECT * FROM (
    SELECT r.*, row_number() OVER (PARTITION BY rk ORDER BY source) AS copy FROM raw_records r
  ) numbered
  WHERE copy = 1
),
-- The account that owns what a call touched (Event::owner_account): recipientAccountId; in a
-- record without it, what the rest of the record says (Event::inferred_owner): the account
-- resources[] names; the caller's, when the record's ARNs and account members name it (or
-- name none); else an ARN of the call's own service, an account member, the caller's, any ARN.
owned AS (
  SELECT r.*,
    COALESCE(NULLIF(r.recipient_account, ''),
      CASE
        WHEN r.listed_account IS NOT NULL THEN r.listed_account
        WHEN r.caller_account IS NOT NULL
          AND (@SIZE(r.arn_accounts) + @SIZE(r.member_accounts) = 0
            OR @CONTAINS(r.arn_accounts, r.caller_account) OR @CONTAINS(r.member_accounts, r.caller_account))
          THEN r.caller_account
        ELSE COALESCE(
          @AT(filter(transform(sequence(1, greatest(@SIZE(r.arn_services), 1)),
            i -> CASE WHEN @AT(r.arn_services, i) = r.own_service THEN @AT(r.arn_accounts, i) END), a -> a IS NOT NULL), 1),
          @AT(r.member_accounts, 1), r.caller_account, @AT(r.arn_accounts, 1))
      END) AS account_id
  FROM (
    SELECT r.*,
      @REGEX_ALL(r.all_text, @RE('"arn:[^:"]+:([^:"]+):[^:"]*:[0-9]{12}:[^"]+"'), 1) AS arn_services,
      @REGEX_ALL(r.all_text, @RE('"arn:[^:"]+:[^:"]+:[^:"]*:([0-9]{12}):[^"]+"'), 1) AS arn_accounts,
      @REGEX_ALL(r.all_text, @RE('(?i)"(?:accountid|awsaccountid|owneraccountid|ownerid|owneraccount|account)"\s*:\s*"([0-9]{12})"'), 1) AS member_accounts,
      @AT(filter(transform(r.resources, x -> x.accountid), a -> @RLIKE(COALESCE(a, ''), @RE('^[0-9]{12}$'))), 1) AS listed_account,
      COALESCE(
        CASE WHEN @RLIKE(COALESCE(r.ui.accountid, ''), @RE('^[0-9]{12}$')) THEN r.ui.accountid END,
        CASE WHEN @RLIKE(COALESCE(r.ui.arn, ''), @RE('^arn:[^:]+:[^:]+:[^:]*:[0-9]{12}:.+$')) THEN split_part(r.ui.arn, ':', 5) END,
        CASE WHEN @RLIKE(COALESCE(r.ui.sessioncontext.sessionissuer.accountid, ''), @RE('^[0-9]{12}$'))
          THEN r.ui.sessioncontext.sessionissuer.accountid END,
        CASE WHEN @RLIKE(COALESCE(r.ui.sessioncontext.sessionissuer.arn, ''), @RE('^arn:[^:]+:[^:]+:[^:]*:[0-9]{12}:.+$'))
          THEN split_part(r.ui.sessioncontext.sessionissuer.arn, ':', 5) END,
        CASE WHEN @RLIKE(COALESCE(r.ui.principalid, ''), @RE('^[0-9]{12}$')) THEN r.ui.principalid END
      ) AS caller_account
    FROM (
      SELECT r.*,
        concat_ws(' ', COALESCE(requestparameters, ''), COALESCE(responseelements, ''),
          COALESCE(additionaleventdata, ''), COALESCE(serviceeventdetails, '')) AS all_text,
        CASE split_part(event_source, '.', 1) WHEN 'monitoring' THEN 'cloudwatch' WHEN 'email' THEN 'ses'
          ELSE split_part(event_source, '.', 1) END AS own_service
      FROM records r
    ) r
  ) r
),
-- The newest inventory snapshot (names are completed against it) and each snapshot's span.
spans AS (
  SELECT DISTINCT snapshot, valid_from, valid_to FROM tagtrail_inventory WHERE source = 'inventory'
),
newest AS (SELECT max(snapshot) AS snapshot FROM tagtrail_inventory),
known_arns AS (
  SELECT DISTINCT i.arn FROM tagtrail_inventory i CROSS JOIN newest n
  WHERE i.snapshot IS NOT DISTINCT FROM n.snapshot
),
-- IAM ARNs without their path → the ARN with it.
iam_paths AS (
  SELECT short, min(arn) AS arn FROM (
    SELECT arn, @IAM_WITHOUT_PATH(arn) AS short
    FROM known_arns WHERE @HAS_IAM_PATH(arn)
  ) s GROUP BY short
),
-- Who acted: the IAM user or role behind the call (principal_of).
principals AS (
  SELECT r.*,
    CASE
      WHEN ui.type = 'IAMUser' THEN 'iam-user'
      WHEN ui.type = 'AssumedRole' THEN
        CASE
          WHEN role_arn IS NULL OR NOT @IS_ARN(role_arn) THEN 'assumed-role'
          WHEN @STARTS(regexp_extract(role_arn, @RE('([^/:]*)$'), 1), 'AWSReservedSSO_') THEN 'identity-center'
          WHEN @RLIKE(role_arn, @RE('^arn:[^:]+:[^:]+:[^:]*:[^:]*:role/aws-service-role/')) THEN 'aws-service'
          ELSE 'assumed-role'
        END
      WHEN ui.type = 'Root' THEN 'root'
      WHEN ui.type = 'FederatedUser' THEN 'federated-user'
      WHEN ui.type IN ('WebIdentityUser', 'SAMLUser') THEN 'web-identity'
      WHEN ui.type = 'AWSService' THEN 'aws-service'
      WHEN ui.type = 'AWSAccount' THEN 'aws-account'
      WHEN @RLIKE(COALESCE(own_arn, ''), @RE('^arn:[^:]+:iam:[^:]*:[^:]*:user/')) THEN 'iam-user'
      WHEN ui IS NULL OR COALESCE(ui.type, '') = '' THEN
        CASE WHEN event_type = 'AwsServiceEvent' OR NULLIF(ui.invokedby, '') IS NOT NULL THEN 'aws-service' ELSE 'unknown' END
      ELSE 'unknown'
    END AS principal_type,
    CASE
      WHEN ui.type = 'IAMUser' THEN own_arn
      WHEN ui.type = 'AssumedRole' THEN role_arn
      WHEN ui.type = 'Root' THEN COALESCE(own_arn, 'arn:aws:iam::' || NULLIF(ui.accountid, '') || ':root')
      WHEN ui.type = 'FederatedUser' THEN issuer_arn
      WHEN ui.type IN ('WebIdentityUser', 'SAMLUser', 'AWSService', 'AWSAccount') THEN NULL
      WHEN @RLIKE(COALESCE(own_arn, ''), @RE('^arn:[^:]+:iam:[^:]*:[^:]*:user/')) THEN own_arn
      WHEN ui IS NULL OR COALESCE(ui.type, '') = '' THEN NULL
      ELSE own_arn
    END AS principal_arn0,
    NULLIF(ui.accountid, '') AS principal_account,
    COALESCE(NULLIF(ui.accountid, '') <> recipient_account AND recipient_account <> '', false) AS cross_account,
    -- The partition, region and owner account rule templates are filled with (context_of).
    COALESCE(
      CASE WHEN @STARTS(COALESCE(ui.arn, issuer_arn, ''), 'arn:')
        AND @STARTS(split_part(COALESCE(ui.arn, issuer_arn), ':', 2), 'aws')
        THEN split_part(COALESCE(ui.arn, issuer_arn), ':', 2) END,
      CASE
        WHEN @STARTS(COALESCE(aws_region, ''), 'cn-') THEN 'aws-cn'
        WHEN @STARTS(COALESCE(aws_region, ''), 'us-gov-') THEN 'aws-us-gov'
        WHEN @STARTS(COALESCE(aws_region, ''), 'us-isob-') THEN 'aws-iso-b'
        WHEN @STARTS(COALESCE(aws_region, ''), 'us-iso-') THEN 'aws-iso'
        WHEN @STARTS(COALESCE(aws_region, ''), 'eu-isoe-') THEN 'aws-iso-e'
        ELSE 'aws'
      END) AS ctx_partition
  FROM (
    SELECT r.*,
      NULLIF(ui.arn, '') AS own_arn,
      NULLIF(ui.sessioncontext.sessionissuer.arn, '') AS issuer_arn,
      COALESCE(NULLIF(ui.sessioncontext.sessionissuer.arn, ''),
        CASE WHEN @RLIKE(COALESCE(ui.arn, ''), @RE('^arn:[^:]+:[^:]+:[^:]*:[^:]*:assumed-role/[^/]*/'))
          THEN @REWRITE(ui.arn, '^arn:([^:]+):[^:]+:[^:]*:([^:]*):assumed-role/([^/]*)/.*$', 'arn:$1:iam::$2:role/$3') END
      ) AS role_arn
    FROM owned r
  ) r
),
-- The principal ARN completed with its IAM path from the inventory.
events AS (
  SELECT p.*,
    CASE WHEN k.arn IS NOT NULL THEN p.principal_arn0 ELSE COALESCE(ip.arn, p.principal_arn0) END AS principal_arn
  FROM principals p
  LEFT JOIN known_arns k ON k.arn = p.principal_arn0
  LEFT JOIN iam_paths ip ON ip.short = p.principal_arn0
),
-- The rule of each call (rule_for) and its learned second (companion_for).
rule_of AS (
  SELECT e.rk, COALESCE(c1.rule_id, c2.rule_id, c3.rule_id) AS rule_id,
    COALESCE(c1.no_resource, c2.no_resource, c3.no_resource) AS no_resource,
    COALESCE(c1.fallback, c2.fallback, c3.fallback) AS fallback
  FROM events e
  LEFT JOIN tagtrail_calls c1 ON c1.source = e.event_source AND c1.event = e.event_name AND NOT c1.companion
  LEFT JOIN tagtrail_calls c2 ON c2.source = e.event_source AND c2.event = e.base_name AND NOT c2.companion
  LEFT JOIN tagtrail_calls c3 ON c3.source = e.event_source AND c3.event = '*' AND NOT c3.companion
),
applied AS (
  SELECT rk, rule_id, 0 AS companion FROM rule_of WHERE rule_id IS NOT NULL AND NOT no_resource
  UNION ALL
  SELECT e.rk, COALESCE(c1.rule_id, c2.rule_id) AS rule_id, 1 AS companion
  FROM events e
  JOIN rule_of r ON r.rk = e.rk AND r.rule_id IS NOT NULL AND NOT r.no_resource
  LEFT JOIN tagtrail_calls c1 ON c1.source = e.event_source AND c1.event = e.event_name AND c1.companion
  LEFT JOIN tagtrail_calls c2 ON c2.source = e.event_source AND c2.event = e.base_name AND c2.companion
  WHERE COALESCE(c1.rule_id, c2.rule_id) IS NOT NULL
),
-- Every scalar of the record sections rules read, with its path (`.a.b[0].c`).
{{leaves}},
-- The values at each path a record's rules read.
needed AS (
  SELECT DISTINCT a.rk, p.path_id, p.root, p.path_re, p.path_ci_re, p.filters
  FROM applied a
  JOIN tagtrail_rule_paths rp ON rp.rule_id = a.rule_id
  JOIN tagtrail_paths p ON p.path_id = rp.path_id
),
candidates AS (
  SELECT n.rk, n.path_id, n.path_re, n.filters, l.path AS leaf_path, l.ordpath, l.value,
    @RLIKE(l.path, n.path_re) AS exact
  FROM needed n JOIN leaves l ON l.rk = n.rk AND l.root = n.root
  WHERE @RLIKE(l.path, n.path_ci_re)
),
-- A key matches in any case only where the exact key is absent (get_any_case).
matched AS (
  SELECT * FROM (
    SELECT c.*, max(CASE WHEN exact THEN 1 ELSE 0 END) OVER (PARTITION BY rk, path_id) AS any_exact
    FROM candidates c
  ) m
  WHERE exact OR any_exact = 0
),
-- `[key=value]`: the element the value is in has that string under that key.
filter_hits AS (
  SELECT m.rk, m.path_id, m.leaf_path, count(DISTINCT f.grp) AS hits
  FROM matched m
  JOIN tagtrail_filters f ON f.path_id = m.path_id
  JOIN leaves s ON s.rk = m.rk AND s.is_string AND s.value = f.fvalue
    AND lower(s.path) = lower(concat(CASE f.grp
      WHEN 1 THEN regexp_extract(m.leaf_path, CASE WHEN m.exact THEN m.path_re ELSE concat('(?i)', m.path_re) END, 1)
      WHEN 2 THEN regexp_extract(m.leaf_path, CASE WHEN m.exact THEN m.path_re ELSE concat('(?i)', m.path_re) END, 2)
      WHEN 3 THEN regexp_extract(m.leaf_path, CASE WHEN m.exact THEN m.path_re ELSE concat('(?i)', m.path_re) END, 3)
    END, '.', f.fkey))
  GROUP BY m.rk, m.path_id, m.leaf_path
),
path_values AS (
  SELECT m.rk, m.path_id, m.value, m.ordpath,
    row_number() OVER (PARTITION BY m.rk, m.path_id ORDER BY m.ordpath) AS nth
  FROM matched m
  LEFT JOIN filter_hits h ON h.rk = m.rk AND h.path_id = m.path_id AND h.leaf_path = m.leaf_path
  WHERE m.filters = 0 OR h.hits = m.filters
),
first_values AS (SELECT rk, path_id, value FROM path_values WHERE nth = 1),
-- Extractors whose `when` all hold and whose `unless` paths hold nothing.
extractors AS (
  SELECT a.rk, a.companion, x.*
  FROM applied a JOIN tagtrail_extractors x ON x.rule_id = a.rule_id
),
when_held AS (
  SELECT x.rk, x.rule_id, x.ext_no, count(*) AS held
  FROM extractors x
  JOIN tagtrail_conditions c ON c.rule_id = x.rule_id AND c.ext_no = x.ext_no AND c.kind = 'when'
  JOIN first_values v ON v.rk = x.rk AND v.path_id = c.path_id AND v.value = c.value
  GROUP BY x.rk, x.rule_id, x.ext_no
),
unless_hit AS (
  SELECT DISTINCT x.rk, x.rule_id, x.ext_no
  FROM extractors x
  JOIN tagtrail_conditions c ON c.rule_id = x.rule_id AND c.ext_no = x.ext_no AND c.kind = 'unless'
  JOIN first_values v ON v.rk = x.rk AND v.path_id = c.path_id
),
applying AS (
  SELECT x.*
  FROM extractors x
  LEFT JOIN when_held w ON w.rk = x.rk AND w.rule_id = x.rule_id AND w.ext_no = x.ext_no
  WHERE COALESCE(w.held, 0) = x.n_when
    AND NOT EXISTS (SELECT 1 FROM unless_hit u WHERE u.rk = x.rk AND u.rule_id = x.rule_id AND u.ext_no = x.ext_no)
),
-- Each value an extractor reads, with what its template needs (Extractor::apply).
extracted_values AS (
  SELECT x.rk, x.rule_id, x.companion, x.ext_no, x.build, x.arn_of, x.template, x.regex,
    x.accept_arn, x.complete, x.has_types, v.value AS raw_value, v.ordpath,
    @UNDOUBLED(x.template, CASE WHEN x.strip_prefix IS NOT NULL AND @STARTS(v.value, x.strip_prefix)
      THEN substr(v.value, length(x.strip_prefix) + 1) ELSE v.value END) AS value,
    v1.value AS var1, v2.value AS var2, v3.value AS var3, v4.value AS var4,
    e.ctx_partition, COALESCE(e.aws_region, '') AS ctx_region, COALESCE(e.account_id, '') AS ctx_account
  FROM applying x
  JOIN path_values v ON v.rk = x.rk AND v.path_id = x.path_id
  JOIN events e ON e.rk = x.rk
  LEFT JOIN first_values v1 ON v1.rk = x.rk AND v1.path_id = x.var1_path
  LEFT JOIN first_values v2 ON v2.rk = x.rk AND v2.path_id = x.var2_path
  LEFT JOIN first_values v3 ON v3.rk = x.rk AND v3.path_id = x.var3_path
  LEFT JOIN first_values v4 ON v4.rk = x.rk AND v4.path_id = x.var4_path
  WHERE (x.var1_path IS NULL OR v1.value IS NOT NULL)
    AND (x.var2_path IS NULL OR v2.value IS NOT NULL)
    AND (x.var3_path IS NULL OR v3.value IS NOT NULL)
    AND (x.var4_path IS NULL OR v4.value IS NOT NULL)
),
typed_values AS (
  SELECT * FROM (
    SELECT v.*, t.type_name,
      row_number() OVER (PARTITION BY v.rk, v.rule_id, v.ext_no, v.ordpath ORDER BY length(t.prefix) DESC) AS pick
    FROM extracted_values v
    LEFT JOIN tagtrail_types t ON t.rule_id = v.rule_id AND t.ext_no = v.ext_no AND @STARTS(v.value, t.prefix)
  ) v
  WHERE pick = 1
),
rendered AS (SELECT v.*, {{render}} AS filled FROM typed_values v),
built AS (
  SELECT rk, rule_id, companion, ext_no, ordpath, complete,
    CASE
      WHEN build = 'arn_of' THEN
        CASE WHEN split_part(trim(raw_value), ':', 3) = arn_of THEN @NORM(raw_value) END
      WHEN accept_arn AND @IS_ARN(trim(raw_value)) THEN @NORM(raw_value)
      WHEN regex IS NOT NULL AND NOT @RLIKE(value, regex) THEN NULL
      WHEN has_types AND type_name IS NULL THEN NULL
      ELSE @NORM(filled)
    END AS arn,
    build = 'template' AND NOT (accept_arn AND @IS_ARN(trim(raw_value))) AS from_template
  FROM rendered
),
-- A built name completed against the inventory (ArnIndex::complete).
completed AS (
  SELECT b.*,
    CASE
      WHEN b.complete IS NULL OR NOT b.from_template OR b.arn IS NULL THEN b.arn
      WHEN k.arn IS NOT NULL THEN b.arn
      WHEN b.complete = 'path' THEN ip.arn
      ELSE u.arn
    END AS full_arn
  FROM built b
  LEFT JOIN known_arns k ON k.arn = b.arn
  LEFT JOIN iam_paths ip ON ip.short = b.arn
  LEFT JOIN (
    SELECT b.rk, b.rule_id, b.ext_no, b.ordpath, min(k.arn) AS arn, count(*) AS n
    FROM built b JOIN known_arns k
      ON b.arn IS NOT NULL AND @COMPLETES(k.arn, b.arn, b.complete)
    GROUP BY b.rk, b.rule_id, b.ext_no, b.ordpath
  ) u ON u.rk = b.rk AND u.rule_id = b.rule_id AND u.ext_no = b.ext_no AND u.ordpath = b.ordpath AND u.n = 1
),
-- The full ARNs each part of a record holds as a whole string (percent-encoded ones decoded),
-- part 1 the request and 2 the response as rules read them, 3 additionalEventData, 4
-- serviceEventDetails; what resolve::arns_held and the fallbacks read.
held_strings AS (
  SELECT rk, part, @DECODED(a) AS text FROM (
    SELECT rk, 1 AS part, a FROM events @EXPLODE(h1, @REGEX_ALL(COALESCE(request_text, ''), @RE_ARN_STRINGS, 1), a)
    UNION ALL
    SELECT rk, 2 AS part, a FROM events @EXPLODE(h2, @REGEX_ALL(COALESCE(response_text, ''), @RE_ARN_STRINGS, 1), a)
    UNION ALL
    SELECT rk, 3 AS part, a FROM events @EXPLODE(h3, @REGEX_ALL(COALESCE(additionaleventdata, ''), @RE_ARN_STRINGS, 1), a)
    UNION ALL
    SELECT rk, 4 AS part, a FROM events @EXPLODE(h4, @REGEX_ALL(COALESCE(serviceeventdetails, ''), @RE_ARN_STRINGS, 1), a)
  ) s
),
-- Full ARNs of the record, for names the inventory could not complete (complete_from_record).
record_arns AS (
  SELECT DISTINCT rk, @NORM(text) AS arn FROM held_strings
  WHERE @IS_ARN(trim(text))
),
rule_finds AS (
  SELECT c.rk, c.rule_id, c.companion, c.ext_no, c.ordpath,
    CASE
      WHEN c.full_arn IS NOT NULL THEN c.full_arn
      WHEN c.complete = 'path' THEN COALESCE(rp.arn, c.arn)
      ELSE COALESCE(ru.arn, c.arn)
    END AS arn,
    c.full_arn IS NOT NULL AND c.full_arn <> c.arn AS by_inventory
  FROM completed c
  LEFT JOIN (
    SELECT rk, short, min(arn) AS arn FROM (
      SELECT rk, arn, @IAM_WITHOUT_PATH(arn) AS short
      FROM record_arns WHERE @HAS_IAM_PATH(arn)
    ) s GROUP BY rk, short
  ) rp ON c.full_arn IS NULL AND c.complete = 'path' AND rp.rk = c.rk AND rp.short = c.arn
  LEFT JOIN (
    SELECT c.rk, c.rule_id, c.ext_no, c.ordpath, min(r.arn) AS arn, count(*) AS n
    FROM completed c JOIN record_arns r
      ON r.rk = c.rk AND c.full_arn IS NULL AND c.arn IS NOT NULL AND @COMPLETES(r.arn, c.arn, c.complete)
    GROUP BY c.rk, c.rule_id, c.ext_no, c.ordpath
  ) ru ON ru.rk = c.rk AND ru.rule_id = c.rule_id AND ru.ext_no = c.ext_no AND ru.ordpath = c.ordpath AND ru.n = 1
  WHERE c.arn IS NOT NULL
),
-- For a call no rule covers: the ARNs of its own service in its request, else in its
-- response unless it only reads (arns_in_record).
fallback_events AS (
  SELECT e.rk, e.own_arn, e.own_service AS service, e.event_type, e.ctx_partition,
    COALESCE(e.aws_region, '') AS ctx_region, COALESCE(e.account_id, '') AS ctx_account,
    @RLIKE(e.event_name, @RE('^(List|Describe|Get|Search|Lookup|Scan|Query|BatchGet)')) AS reads
  FROM events e JOIN rule_of r ON r.rk = e.rk
  WHERE r.rule_id IS NULL
),
fallback_candidates AS (
  SELECT e.rk, h.part AS section, @NORM(h.text) AS arn, h.text, e.own_arn, e.service, e.reads
  FROM fallback_events e JOIN held_strings h ON h.rk = e.rk AND h.part IN (1, 2)
),
fallback_targets AS (
  SELECT * FROM fallback_candidates
  WHERE arn IS NOT NULL AND text IS DISTINCT FROM own_arn
    AND split_part(arn, ':', 3) = service AND service <> 'sts'
    AND NOT @RLIKE(substr(arn, length(split_part(arn, ':', 1)) + length(split_part(arn, ':', 2)) + length(split_part(arn, ':', 3)) + length(split_part(arn, ':', 4)) + length(split_part(arn, ':', 5)) + 6), @RE('[*?]'))
    AND CASE WHEN service IN ('s3', 'apigateway', 'route53', 'sso') THEN split_part(arn, ':', 5) = ''
      ELSE @RLIKE(split_part(arn, ':', 5), @RE('^[0-9]{12}$')) END
),
fallback_finds AS (
  SELECT DISTINCT t.rk, t.arn FROM fallback_targets t
  WHERE t.section = 1 OR (NOT t.reads AND NOT EXISTS (SELECT 1 FROM fallback_targets q WHERE q.rk = t.rk AND q.section = 1))
),
-- A service event no rule covers and whose ARNs name nothing: the members of its details
-- named as the variable of one of its service's ARN formats (`snapshotId`).
named_finds AS (
  SELECT DISTINCT rk, arn FROM (
    SELECT e.rk,
      CASE WHEN @IS_ARN(l.value) THEN @NORM(l.value)
        ELSE @NORM(CASE WHEN (n.template LIKE '%{region}%' AND e.ctx_region = '')
            OR (n.template LIKE '%{account}%' AND e.ctx_account = '') THEN NULL
          ELSE replace(replace(replace(replace(n.template, '{partition}', e.ctx_partition), '{region}', e.ctx_region),
            '{account}', e.ctx_account), '{value}', @UNDOUBLED(n.template, l.value)) END)
      END AS arn
    FROM fallback_events e
    JOIN leaves l ON l.rk = e.rk AND l.root = 'requestParameters' AND l.is_string
    JOIN tagtrail_named n ON n.service = e.service
      AND n.member = lower(regexp_extract(l.path, @RE('^\.([^.\[]+)(\[[0-9]+\])?$'), 1))
    WHERE e.event_type = 'AwsServiceEvent' AND NOT EXISTS (SELECT 1 FROM fallback_finds f WHERE f.rk = e.rk)
  ) n
  WHERE arn IS NOT NULL
),
-- What each ARN a record holds or a rule built is (sar::type_of): the most specific format
-- it fits.
arn_pool AS (
  SELECT DISTINCT arn FROM (
    SELECT @NORM(text) AS arn FROM held_strings WHERE part IN (1, 2)
    UNION ALL
    SELECT @NORM(x.arn) AS arn FROM events e @EXPLODE(lx, e.resources, x)
    UNION ALL
    SELECT arn FROM rule_finds
  ) a WHERE arn IS NOT NULL
),
arn_types AS (
  SELECT arn, skeleton FROM (
    SELECT a.arn, f.skeleton,
      row_number() OVER (PARTITION BY a.arn ORDER BY f.literal_len DESC, f.own DESC, f.text DESC) AS n
    FROM arn_pool a JOIN tagtrail_sar_formats f ON f.service = split_part(a.arn, ':', 3) AND @RLIKE(a.arn, f.pattern)
  ) t WHERE n = 1
),
-- What a rule built that the record's own resources[] contradicts (drop_contradicted): it
-- lists ARNs of that type, region and account, and the built one is none of them nor inside
-- or around one.
listed_typed AS (
  SELECT DISTINCT l.rk, l.arn, t.skeleton FROM (
    SELECT e.rk, @NORM(x.arn) AS arn FROM events e @EXPLODE(lx, e.resources, x)
  ) l JOIN arn_types t ON t.arn = l.arn
),
kept_finds AS (
  SELECT f.* FROM rule_finds f
  LEFT JOIN arn_types ft ON ft.arn = f.arn
  WHERE ft.skeleton IS NULL OR NOT EXISTS (
    SELECT 1 FROM listed_typed l WHERE l.rk = f.rk AND l.skeleton = ft.skeleton
      AND split_part(l.arn, ':', 4) = split_part(f.arn, ':', 4) AND split_part(l.arn, ':', 5) = split_part(f.arn, ':', 5)
  ) OR EXISTS (
    SELECT 1 FROM listed_typed l WHERE l.rk = f.rk AND l.skeleton = ft.skeleton
      AND split_part(l.arn, ':', 4) = split_part(f.arn, ':', 4) AND split_part(l.arn, ':', 5) = split_part(f.arn, ':', 5)
      AND (l.arn = f.arn OR @INSIDE(l.arn, f.arn) OR @INSIDE(f.arn, l.arn))
  )
),
-- The ARNs a record holds, of a type its call acts on (held_targets): those of its request
-- beside what its rule found; those of its result for a call that makes something (or where
-- nothing else names a target of a type the call acts on), of a type nothing else names.
held_candidates AS (
  SELECT DISTINCT h.rk, h.part, @NORM(h.text) AS arn, t.skeleton
  FROM held_strings h
  JOIN events e ON e.rk = h.rk
  JOIN rule_of r ON r.rk = h.rk AND r.rule_id IS NOT NULL AND NOT r.no_resource
  JOIN arn_types t ON t.arn = @NORM(h.text)
  JOIN tagtrail_sar_targets s ON s.action = concat(e.own_service, ':', e.base_name) AND s.skeleton = t.skeleton
  WHERE h.part IN (1, 2) AND e.all_text LIKE '%arn:%'
    AND @STARTS(trim(h.text), 'arn:') AND NOT @RLIKE(trim(h.text), @RE('[*? ]'))
    AND trim(h.text) IS DISTINCT FROM e.ui.arn AND trim(h.text) IS DISTINCT FROM e.ui.sessioncontext.sessionissuer.arn
    AND NOT EXISTS (SELECT 1 FROM kept_finds f WHERE f.rk = h.rk AND (f.arn = @NORM(h.text) OR @INSIDE(@NORM(h.text), f.arn)))
),
held_given AS (SELECT rk, arn, skeleton FROM held_candidates WHERE part = 1),
-- The records where the rule found something of a type the call acts on.
acted_on_finds AS (
  SELECT DISTINCT f.rk FROM kept_finds f
  JOIN events e ON e.rk = f.rk
  JOIN arn_types ft ON ft.arn = f.arn
  JOIN tagtrail_sar_targets s ON s.action = concat(e.own_service, ':', e.base_name) AND s.skeleton = ft.skeleton
),
held_finds AS (
  SELECT DISTINCT rk, arn FROM held_given
  UNION ALL
  SELECT DISTINCT c.rk, c.arn FROM held_candidates c JOIN events e ON e.rk = c.rk
  WHERE c.part = 2
    AND (@RLIKE(e.event_name, @RE('^(Create|Register|Import|Allocate|Copy|Clone|Restore|Run|Start|Submit|Issue|Request|Publish)'))
      OR (NOT EXISTS (SELECT 1 FROM acted_on_finds a WHERE a.rk = c.rk)
          AND NOT EXISTS (SELECT 1 FROM held_given g WHERE g.rk = c.rk)))
    AND NOT EXISTS (SELECT 1 FROM held_given g WHERE g.rk = c.rk AND g.skeleton = c.skeleton)
    AND NOT EXISTS (SELECT 1 FROM kept_finds f JOIN arn_types ft ON ft.arn = f.arn WHERE f.rk = c.rk AND ft.skeleton = c.skeleton)
),
-- Every resource a record touched, each once, with how it was first found.
touched_all AS (
  SELECT e.rk, @NORM(r) AS arn, 1 AS stage, lpad(CAST(r_pos AS @STR), 6, '0') AS ord, 'resources' AS via
  FROM events e @POSEXPLODE(rs, transform(e.resources, x -> COALESCE(x.arn, x.arnprefix)), r, r_pos)
  UNION ALL
  SELECT rk, @NORM(denied), 2, '', 'error-message' FROM (
    SELECT e.rk, regexp_replace(regexp_extract(e.error_message, @RE('(?s)^.*?perform: [^ :]*:([^ ]*) on resource: "*(?:policy )?([^\s",]*)'), 2), @RE('\.+$'), '') AS denied
    FROM events e
    WHERE @RLIKE(COALESCE(e.error_message, ''), @RE('(?s)^.*?perform: [^ :]*:([^ ]*) on resource: "*(?:policy )?([^\s",]*)'))
      AND regexp_extract(e.error_message, @RE('(?s)^.*?perform: [^ :]*:([^ ]*) on resource: "*(?:policy )?([^\s",]*)'), 1) = e.base_name
  ) d
  UNION ALL
  -- IAM names its own resources by type and name (`on resource: role deploy because ...`).
  SELECT rk, concat('arn:', ctx_partition, ':iam::', account_id, ':', kind, '/', name), 2, '', 'error-message' FROM (
    SELECT e.rk, e.ctx_partition, e.account_id,
      regexp_extract(e.error_message, @RE('(?s)^.*?perform: [^ :]*:[^ ]* on resource: (role|user|group|instance-profile) ([A-Za-z0-9+=,.\x40_-]+)(\s|$)'), 1) AS kind,
      regexp_extract(e.error_message, @RE('(?s)^.*?perform: [^ :]*:[^ ]* on resource: (role|user|group|instance-profile) ([A-Za-z0-9+=,.\x40_-]+)(\s|$)'), 2) AS name
    FROM events e
    WHERE e.event_source = 'iam.amazonaws.com' AND COALESCE(e.account_id, '') <> ''
      AND @RLIKE(COALESCE(e.error_message, ''), @RE('(?s)^.*?perform: [^ :]*:[^ ]* on resource: (role|user|group|instance-profile) [A-Za-z0-9+=,.\x40_-]+(\s|$)'))
      AND regexp_extract(e.error_message, @RE('(?s)^.*?perform: [^ :]*:([^ ]*) on resource: '), 1) = e.base_name
  ) i
  UNION ALL
  SELECT rk, arn, 3 + companion, concat(lpad(CAST(ext_no AS @STR), 6, '0'), ordpath),
    CASE WHEN by_inventory THEN 'inventory' ELSE concat('rule:', rule_id) END
  FROM kept_finds
  UNION ALL
  SELECT rk, arn, 5, arn, 'arn-in-record' FROM fallback_finds
  UNION ALL
  SELECT rk, arn, 5, arn, 'arn-in-record' FROM named_finds
  UNION ALL
  SELECT rk, arn, 5, arn, 'arn-in-record' FROM held_finds
),
touched AS (
  SELECT rk, arn, via FROM (
    SELECT t.*, row_number() OVER (PARTITION BY rk, arn ORDER BY stage, ord) AS n
    FROM touched_all t WHERE arn IS NOT NULL
  ) t WHERE n = 1
),
-- Why a record resolved to nothing: only "no rule" is reported (Unresolved::NoRule).
unresolved AS (
  SELECT e.rk FROM events e JOIN rule_of r ON r.rk = e.rk
  WHERE NOT EXISTS (SELECT 1 FROM touched t WHERE t.rk = e.rk)
    AND (r.rule_id IS NULL OR (r.fallback AND NOT r.no_resource))
),
-- The trail's own tag calls (history::calls, data/tag-calls.toml): what each successful call
-- did to the product tag of the resources it touched.
tag_call_entries AS (
  SELECT e.rk, c.ord, c.op, c.pos, c.path_id
  FROM events e JOIN tagtrail_tag_calls c
    ON (c.source IS NULL OR c.source = e.event_source)
    AND (e.event_name = c.name OR (c.prefix AND @STARTS(e.event_name, c.name)))
  WHERE e.error_code IS NULL AND e.event_time IS NOT NULL
),
tag_calls_of AS (
  SELECT t.* FROM tag_call_entries t
  JOIN (SELECT rk, min(ord) AS ord FROM tag_call_entries GROUP BY rk) f ON f.rk = t.rk AND f.ord = t.ord
),
-- Calls that start a role session (history::sessions) and the parts of them the query reads.
session_calls AS (
  SELECT e.rk, p.session AS purpose, p.path_id
  FROM events e JOIN tagtrail_paths p ON p.session IS NOT NULL
  WHERE e.event_source = 'sts.amazonaws.com' AND e.error_code IS NULL
    AND e.event_name IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity', 'GetFederationToken')
),
-- The nodes that hold tags: a tag call's, and a session's tags (purpose `call` or the
-- session part).
tag_nodes AS (
  SELECT rk, 'call' AS purpose, op, pos, path_id FROM tag_calls_of
  UNION ALL
  SELECT rk, purpose, 'session', 0, path_id FROM session_calls
  WHERE purpose IN ('tags', 'principal_tags', 'incoming')
),
-- The scalars under each tag node, with the object they sit in and their own key.
tag_leaves AS (
  SELECT c.rk, c.purpose, c.op, c.pos, l.ordpath, l.value, l.is_string,
    substr(l.path, length(regexp_extract(l.path, p.node_re, 1)) + 1) AS rel,
    regexp_replace(l.path, @RE('\.[^.\[]+$'), '') AS obj,
    lower(regexp_extract(l.path, @RE('\.([^.\[]+)$'), 1)) AS name
  FROM tag_nodes c
  JOIN tagtrail_paths p ON p.path_id = c.path_id
  JOIN leaves l ON l.rk = c.rk AND l.root = p.root AND @RLIKE(l.path, p.node_re)
),
-- Objects that hold a tag as {key, value} (tags_in).
tag_pair_objects AS (
  SELECT DISTINCT rk, purpose, obj FROM tag_leaves
  WHERE name IN ('key', 'tagkey') AND @RLIKE(rel, @RE('^(\[[0-9]+\]|\.(items|member|Tag|TagSet|tagSet|Tags))*\.[^.\[]+$'))
),
tags_set AS (
  SELECT k.rk, k.purpose, k.op, k.pos, k.ordpath, k.value AS tag_key, COALESCE(v.value, '') AS tag_value
  FROM tag_leaves k
  JOIN tag_pair_objects o ON o.rk = k.rk AND o.purpose = k.purpose AND o.obj = k.obj
  LEFT JOIN tag_leaves v ON v.rk = k.rk AND v.purpose = k.purpose AND v.obj = k.obj AND v.name IN ('value', 'tagvalue')
  WHERE k.name IN ('key', 'tagkey')
  UNION ALL
  SELECT m.rk, m.purpose, m.op, m.pos, m.ordpath, regexp_extract(m.rel, @RE('\.([^.\[]+)$'), 1), m.value
  FROM tag_leaves m
  WHERE @RLIKE(m.rel, @RE('^(\[[0-9]+\]|\.(items|member|Tag|TagSet|tagSet|Tags))*\.[^.\[]+$'))
    AND NOT EXISTS (SELECT 1 FROM tag_pair_objects o WHERE o.rk = m.rk AND o.purpose = m.purpose AND o.obj = m.obj)
),
-- The last product tag of each node.
product_tags AS (
  SELECT rk, purpose, trim(tag_value) AS tag_value,
    row_number() OVER (PARTITION BY rk, purpose ORDER BY pos DESC, ordpath DESC) AS nth
  FROM tags_set WHERE @KEY_IS(tag_key)
),
keys_removed AS (
  SELECT DISTINCT rk FROM tag_leaves
  WHERE op = 'remove' AND is_string AND @KEY_IS(value)
    AND name NOT IN ('value', 'tagvalue')
),
tag_changes AS (
  SELECT c.rk, e.event_id, e.event_time,
    CASE
      WHEN c.op = 'clear' THEN 'unset'
      WHEN c.op = 'remove' THEN CASE WHEN k.rk IS NOT NULL THEN 'unset' END
      WHEN t.rk IS NOT NULL THEN CASE WHEN t.tag_value <> '' THEN 'set' ELSE 'unset' END
      WHEN c.op = 'replace' THEN 'unset'
    END AS change,
    CASE WHEN c.op IN ('add', 'replace') AND t.tag_value <> '' THEN t.tag_value END AS product
  FROM (SELECT DISTINCT rk, op FROM tag_calls_of) c
  JOIN events e ON e.rk = c.rk
  LEFT JOIN keys_removed k ON k.rk = c.rk
  LEFT JOIN product_tags t ON t.rk = c.rk AND t.purpose = 'call' AND t.nth = 1
),
-- Each session begun: its credentials' key, the caller's (a role chain's parent), and the
-- product its own tags give, the product a chain passed in, whether it passes it on.
session_values AS (
  SELECT c.rk, c.purpose, l.value, row_number() OVER (PARTITION BY c.rk, c.purpose ORDER BY l.ordpath) AS nth
  FROM session_calls c
  JOIN tagtrail_paths p ON p.path_id = c.path_id
  JOIN leaves l ON l.rk = c.rk AND l.root = p.root AND @RLIKE(l.path, p.path_re)
  WHERE c.purpose IN ('key', 'transitive_keys')
),
session_products AS (
  SELECT rk, purpose, tag_value AS product FROM product_tags
  WHERE purpose <> 'call' AND nth = 1 AND tag_value <> ''
),
session_starts AS (
  SELECT e.rk, e.event_time AS started, e.event_id, e.principal_arn IS NULL AS federated,
    k.value AS new_key, e.access_key_id AS parent_key,
    COALESCE(t.product, pt.product) AS own, i.product AS incoming,
    tk.rk IS NOT NULL AS own_transitive
  FROM events e
  JOIN session_values k ON k.rk = e.rk AND k.purpose = 'key' AND k.nth = 1
  LEFT JOIN session_products t ON t.rk = e.rk AND t.purpose = 'tags'
  LEFT JOIN session_products pt ON pt.rk = e.rk AND pt.purpose = 'principal_tags'
  LEFT JOIN session_products i ON i.rk = e.rk AND i.purpose = 'incoming'
  LEFT JOIN (
    SELECT DISTINCT rk FROM session_values WHERE purpose = 'transitive_keys' AND @KEY_IS(value)
  ) tk ON tk.rk = e.rk
),
-- The session whose credentials began each one: the last begun before it with that key.
session_parents AS (
  SELECT rk, parent_rk FROM (
    SELECT s.rk, p.rk AS parent_rk,
      row_number() OVER (PARTITION BY s.rk ORDER BY p.started DESC) AS nth
    FROM session_starts s
    JOIN session_starts p ON p.new_key = s.parent_key AND p.rk <> s.rk
      AND (p.started IS NULL OR p.started <= s.started)
  ) x WHERE nth = 1
),
-- Down a role chain a transitive product passes on and overrides the session's own tags
-- (sessions::link), followed {{chain_hops}} sessions deep.
{{session_chain}},
-- The product of each session's credentials, and of each federated sign-in by its event.
sessions AS (
  SELECT new_key, product FROM (
    SELECT s.new_key, c.product, row_number() OVER (PARTITION BY s.new_key ORDER BY s.started DESC) AS nth
    FROM session_starts s JOIN session_chain c ON c.rk = s.rk
    WHERE c.product IS NOT NULL
  ) x WHERE nth = 1
),
sign_ins AS (
  SELECT s.event_id, max(c.product) AS product
  FROM session_starts s JOIN session_chain c ON c.rk = s.rk
  WHERE s.federated AND s.event_id IS NOT NULL AND c.product IS NOT NULL
  GROUP BY s.event_id
),
-- Each change on the timeline of every resource its call touched (IAM users and roles by
-- name, without their path).
timelines AS (
  SELECT @TIMELINE_KEY(t.arn) AS arn_key, c.event_time AS time, c.event_id, c.product
  FROM tag_changes c JOIN touched t ON t.rk = c.rk
  WHERE c.change IS NOT NULL
),
-- The records judged, each with who acted (History::duplicate, History::caller_of): the
-- caller's copy of a cross-account call whose owner's copy was read, and a record delivered
-- again with corrections, are left out; the owner's copy, when it names only the caller's
-- account, takes the principal the caller's copy names.
owner_copies AS (
  SELECT DISTINCT shared_event_id FROM events WHERE cross_account AND shared_event_id IS NOT NULL
),
caller_copies AS (
  SELECT * FROM (
    SELECT shared_event_id, principal_arn, principal_type, principal_account, access_key_id,
      row_number() OVER (PARTITION BY shared_event_id ORDER BY event_time DESC, source DESC) AS nth
    FROM events
    WHERE NOT cross_account AND shared_event_id IS NOT NULL AND principal_arn IS NOT NULL
  ) c WHERE nth = 1
),
replaced AS (
  SELECT DISTINCT original_event_id FROM events
  WHERE original_event_id IS NOT NULL AND original_event_id IS DISTINCT FROM event_id
),
acting AS (
  SELECT e.rk, e.event_time, e.event_id, e.event_source, e.event_name, e.aws_region, e.account_id,
    e.error_code, e.read_only, e.source,
    CASE WHEN c.shared_event_id IS NULL THEN e.principal_arn ELSE c.principal_arn END AS principal_arn,
    CASE WHEN c.shared_event_id IS NULL THEN e.principal_type ELSE c.principal_type END AS principal_type,
    CASE WHEN c.shared_event_id IS NULL THEN e.principal_account ELSE c.principal_account END AS principal_account,
    CASE WHEN c.shared_event_id IS NULL THEN e.access_key_id ELSE c.access_key_id END AS access_key_id,
    e.cross_account
  FROM events e
  LEFT JOIN caller_copies c ON e.principal_arn IS NULL AND e.cross_account AND c.shared_event_id = e.shared_event_id
  LEFT JOIN replaced r ON NOT e.amends AND r.original_event_id = e.event_id
  LEFT JOIN owner_copies o ON NOT e.cross_account AND o.shared_event_id = e.shared_event_id
  WHERE r.original_event_id IS NULL AND o.shared_event_id IS NULL
),
-- Tags at the event's time (history::Tags::resource).
lookups AS (
  SELECT DISTINCT q.rk, q.event_time, q.event_id, q.arn, s.snapshot AS in_force
  FROM (
    SELECT rk, event_time, event_id, principal_arn AS arn FROM acting WHERE principal_arn IS NOT NULL
    UNION ALL
    SELECT t.rk, e.event_time, e.event_id, t.arn FROM touched t JOIN acting e ON e.rk = t.rk
  ) q
  LEFT JOIN spans s ON (q.event_time IS NULL AND s.valid_to IS NULL)
    OR (q.event_time IS NOT NULL AND COALESCE(s.valid_from <= q.event_time, true) AND COALESCE(q.event_time < s.valid_to, true))
),
level0 AS (
  SELECT q.*, COALESCE(a.key_arn, q.arn) AS level FROM lookups q
  LEFT JOIN tagtrail_kms_aliases a ON a.alias_arn = q.arn AND a.snapshot IS NOT DISTINCT FROM q.in_force
),
level1 AS (SELECT rk, event_time, event_id, arn, in_force, @PARENT(level) AS level FROM level0),
level2 AS (SELECT rk, event_time, event_id, arn, in_force, @PARENT(level) AS level FROM level1 WHERE level IS NOT NULL),
levels AS (
  SELECT rk, event_time, event_id, arn, in_force, 0 AS lvl, level FROM level0
  UNION ALL SELECT rk, event_time, event_id, arn, in_force, 1, level FROM level1
  UNION ALL SELECT rk, event_time, event_id, arn, in_force, 2, level FROM level2
),
-- The trail's last change of a level before the event, the event's own left out.
trail_hits AS (
  SELECT rk, arn, lvl, product FROM (
    SELECT l.rk, l.arn, l.lvl, c.product,
      row_number() OVER (PARTITION BY l.rk, l.arn, l.lvl ORDER BY c.time DESC) AS nth
    FROM levels l JOIN timelines c ON c.arn_key = @TIMELINE_KEY(l.level)
    WHERE l.level IS NOT NULL AND (l.event_time IS NULL OR c.time < l.event_time
      OR (c.time = l.event_time AND c.event_id IS DISTINCT FROM l.event_id))
  ) h WHERE nth = 1
),
level_hits AS (
  SELECT l.rk, l.arn, l.in_force, l.lvl,
    th.rk IS NOT NULL AS changed, th.product AS changed_product,
    li.arn IS NOT NULL AS listed, li.product AS listed_product,
    COALESCE(c1.arn, c2.arn) IS NOT NULL AS recorded,
    CASE WHEN c1.arn IS NOT NULL THEN c1.product ELSE c2.product END AS recorded_product
  FROM levels l
  CROSS JOIN newest n
  LEFT JOIN trail_hits th ON th.rk = l.rk AND th.arn = l.arn AND th.lvl = l.lvl
  LEFT JOIN tagtrail_inventory li ON li.source = 'inventory' AND li.arn = l.level
    AND li.snapshot IS NOT DISTINCT FROM l.in_force
  LEFT JOIN tagtrail_inventory c1 ON c1.source = 'config' AND c1.arn = l.level
    AND c1.snapshot IS NOT DISTINCT FROM l.in_force AND ((l.event_time IS NULL AND c1.valid_to IS NULL)
      OR (c1.valid_from <= l.event_time AND COALESCE(l.event_time < c1.valid_to, true)))
  LEFT JOIN tagtrail_inventory c2 ON c2.source = 'config' AND c2.arn = l.level
    AND c2.snapshot IS NOT DISTINCT FROM n.snapshot AND ((l.event_time IS NULL AND c2.valid_to IS NULL)
      OR (c2.valid_from <= l.event_time AND COALESCE(l.event_time < c2.valid_to, true)))
  WHERE l.level IS NOT NULL
),
tags AS (
  SELECT q.rk, q.arn,
    CASE WHEN h.rk IS NULL THEN 'absent'
      WHEN h.changed THEN CASE WHEN h.changed_product IS NULL THEN 'untagged' ELSE 'tagged' END
      WHEN (h.listed AND q.in_force IS NOT NULL) OR NOT h.recorded THEN CASE WHEN h.listed_product IS NULL THEN 'untagged' ELSE 'tagged' END
      ELSE CASE WHEN h.recorded_product IS NULL THEN 'untagged' ELSE 'tagged' END
    END AS state,
    CASE WHEN h.rk IS NULL THEN NULL
      WHEN h.changed THEN h.changed_product
      WHEN (h.listed AND q.in_force IS NOT NULL) OR NOT h.recorded THEN h.listed_product
      ELSE h.recorded_product
    END AS product,
    CASE
      WHEN h.rk IS NOT NULL AND h.changed THEN 'trail'
      WHEN h.rk IS NOT NULL AND h.recorded AND NOT (h.listed AND q.in_force IS NOT NULL) THEN 'config'
      WHEN q.in_force IS NULL THEN 'current'
      ELSE concat('snapshot:', @TS_TEXT(q.in_force))
    END AS source,
    q.in_force
  FROM lookups q
  LEFT JOIN (
    SELECT h.*, row_number() OVER (PARTITION BY rk, arn ORDER BY lvl) AS pick
    FROM level_hits h WHERE h.changed OR h.listed OR h.recorded
  ) h ON h.rk = q.rk AND h.arn = q.arn AND h.pick = 1
),
-- The verdict of each (event, resource) pair (verdict::judge); a session's product tag
-- overrides its role's (History::principal).
judged AS (
  SELECT e.*, COALESCE(ss.product, si.product, pt.product) AS principal_product,
    CASE
      WHEN COALESCE(ss.product, si.product) IS NOT NULL THEN 'session'
      WHEN e.principal_arn IS NOT NULL AND pt.source <> 'current' THEN pt.source
      WHEN e.principal_arn IS NULL AND es.snapshot IS NOT NULL THEN concat('snapshot:', @TS_TEXT(es.snapshot))
      ELSE 'iam'
    END AS principal_tag_source,
    t.arn AS resource_arn, t.via, rt.state AS resource_state, rt.product AS resource_product,
    rt.source AS resource_tag_source,
    CASE WHEN u.rk IS NOT NULL THEN 'unresolved' ELSE 'touched' END AS shape
  FROM acting e
  LEFT JOIN sessions ss ON ss.new_key = e.access_key_id
  LEFT JOIN sign_ins si ON e.principal_arn IS NULL AND si.event_id = e.event_id
  LEFT JOIN spans es ON (e.event_time IS NULL AND es.valid_to IS NULL)
    OR (e.event_time IS NOT NULL AND COALESCE(es.valid_from <= e.event_time, true) AND COALESCE(e.event_time < es.valid_to, true))
  LEFT JOIN tags pt ON pt.rk = e.rk AND pt.arn = e.principal_arn
  LEFT JOIN touched t ON t.rk = e.rk
  LEFT JOIN unresolved u ON u.rk = e.rk
  LEFT JOIN tags rt ON rt.rk = e.rk AND rt.arn = t.arn
  WHERE e.principal_type <> 'aws-service' AND (t.arn IS NOT NULL OR u.rk IS NOT NULL)
),
findings AS (
  SELECT j.*,
    CASE
      WHEN shape = 'unresolved' THEN 'unresolved-resource'
      WHEN principal_product IS NULL THEN 'untagged-principal'
      WHEN resource_state = 'absent' THEN 'resource-not-in-inventory'
      WHEN resource_state = 'untagged' THEN 'untagged-resource'
      WHEN principal_product = resource_product THEN NULL
      WHEN EXISTS (SELECT 1 FROM tagtrail_policy p WHERE p.kind = 'shared' AND p.product = j.resource_product) THEN NULL
      WHEN EXISTS (SELECT 1 FROM tagtrail_policy p WHERE p.kind = 'allow' AND p.product = j.resource_product
        AND @RLIKE(COALESCE(j.principal_arn, ''), p.pattern)) THEN NULL
      ELSE 'product-mismatch'
    END AS kind
  FROM judged j
  WHERE shape = 'unresolved'
    OR NOT EXISTS (SELECT 1 FROM tagtrail_policy p WHERE p.kind = 'ignore' AND @RLIKE(j.resource_arn, p.pattern))
 
  ),
-- A tag call that moved a resource between products (verdict::judge, Kind::TagChange): only
-- where the product before the call is known.
tag_change_findings AS (
  SELECT j.*, c.product AS new_product
  FROM judged j
  JOIN tags rt ON rt.rk = j.rk AND rt.arn = j.resource_arn
  JOIN timelines c ON c.arn_key = @TIMELINE_KEY(j.resource_arn) AND c.event_id = j.event_id
  LEFT JOIN (
    SELECT arn_key, product FROM (
      SELECT t.*, row_number() OVER (PARTITION BY arn_key ORDER BY time DESC) AS nth FROM timelines t
    ) l WHERE nth = 1
  ) last ON last.arn_key = c.arn_key
  WHERE j.shape = 'touched' AND j.resource_product IS NOT NULL
    AND c.product IS DISTINCT FROM j.resource_product
    AND CASE
      WHEN rt.source IN ('trail', 'config') THEN true
      WHEN rt.source = 'current' THEN last.product IS DISTINCT FROM j.resource_product
      ELSE rt.in_force <= c.time
    END
    AND NOT EXISTS (SELECT 1 FROM tagtrail_policy p WHERE p.kind = 'ignore' AND @RLIKE(j.resource_arn, p.pattern))
),
all_findings AS (
  SELECT event_time, event_id, event_source, event_name, aws_region, account_id, principal_arn,
    principal_type, principal_account, cross_account, principal_product, principal_tag_source,
    CASE WHEN shape = 'unresolved' THEN NULL ELSE resource_arn END AS resource_arn,
    CASE WHEN shape = 'unresolved' THEN NULL ELSE resource_product END AS resource_product,
    CASE WHEN shape = 'unresolved' THEN NULL ELSE resource_tag_source END AS resource_tag_source,
    CAST(NULL AS @STR) AS previous_resource_product,
    kind,
    CASE WHEN shape = 'unresolved' THEN NULL ELSE via END AS resolved_via,
    error_code, read_only, source
  FROM findings WHERE kind IS NOT NULL
  UNION ALL
  SELECT event_time, event_id, event_source, event_name, aws_region, account_id, principal_arn,
    principal_type, principal_account, cross_account, principal_product, principal_tag_source,
    resource_arn, new_product, 'trail', resource_product, 'tag-change', via,
    error_code, read_only, source
  FROM tag_change_findings
)
-- The columns of findings.parquet (report::SCHEMA), in its order.
SELECT {{findings_columns}}
FROM (
  SELECT a.*,
    COALESCE(@RLIKE(lower(error_code), @RE('accessdenied|unauthorized|^authfailure$|^forbidden$')), false) AS denied
  FROM all_findings a
) f
