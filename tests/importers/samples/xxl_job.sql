-- xxl-job 2.4 tables, as mysqldump writes them (a sample written for the importer's test)
DROP TABLE IF EXISTS `xxl_job_group`;
CREATE TABLE `xxl_job_group` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `app_name` varchar(64) NOT NULL COMMENT '执行器AppName',
  `title` varchar(12) NOT NULL COMMENT '执行器名称',
  `address_type` tinyint(4) NOT NULL DEFAULT '0',
  `address_list` text,
  `update_time` datetime DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `xxl_job_group` VALUES (1,'xxl-job-executor-sample','示例执行器',0,NULL,'2024-01-01 00:00:00'),(2,'orders','订单',0,NULL,'2024-01-01 00:00:00');

DROP TABLE IF EXISTS `xxl_job_info`;
CREATE TABLE `xxl_job_info` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `job_group` int(11) NOT NULL COMMENT '执行器主键ID',
  `job_desc` varchar(255) NOT NULL,
  `add_time` datetime DEFAULT NULL,
  `update_time` datetime DEFAULT NULL,
  `author` varchar(64) DEFAULT NULL COMMENT '作者',
  `alarm_email` varchar(255) DEFAULT NULL COMMENT '报警邮件',
  `schedule_type` varchar(50) NOT NULL DEFAULT 'NONE' COMMENT '调度类型',
  `schedule_conf` varchar(128) DEFAULT NULL COMMENT '调度配置，值含义取决于调度类型',
  `misfire_strategy` varchar(50) NOT NULL DEFAULT 'DO_NOTHING' COMMENT '调度过期策略',
  `executor_route_strategy` varchar(50) DEFAULT NULL COMMENT '执行器路由策略',
  `executor_handler` varchar(255) DEFAULT NULL COMMENT '执行器任务handler',
  `executor_param` varchar(512) DEFAULT NULL COMMENT '执行器任务参数',
  `executor_block_strategy` varchar(50) DEFAULT NULL COMMENT '阻塞处理策略',
  `executor_timeout` int(11) NOT NULL DEFAULT '0' COMMENT '任务执行超时时间，单位秒',
  `executor_fail_retry_count` int(11) NOT NULL DEFAULT '0' COMMENT '失败重试次数',
  `glue_type` varchar(50) NOT NULL COMMENT 'GLUE类型',
  `glue_source` mediumtext COMMENT 'GLUE源代码',
  `glue_remark` varchar(128) DEFAULT NULL COMMENT 'GLUE备注',
  `glue_updatetime` datetime DEFAULT NULL COMMENT 'GLUE更新时间',
  `child_jobid` varchar(255) DEFAULT NULL COMMENT '子任务ID，多个逗号分隔',
  `trigger_status` tinyint(4) NOT NULL DEFAULT '0' COMMENT '调度状态：0-停止，1-运行',
  `trigger_last_time` bigint(13) NOT NULL DEFAULT '0' COMMENT '上次调度时间',
  `trigger_next_time` bigint(13) NOT NULL DEFAULT '0' COMMENT '下次调度时间',
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `xxl_job_info` VALUES (1,1,'测试任务1','2024-01-01 00:00:00','2024-01-01 00:00:00','XXL','','CRON','0 0 0 * * ? *','DO_NOTHING','FIRST','demoJobHandler','','SERIAL_EXECUTION',0,0,'BEAN','','GLUE代码初始化','2024-01-01 00:00:00','',0,0,0),(2,2,'Orders sync, weekdays','2024-01-01 00:00:00','2024-01-01 00:00:00','ops','ops@example.com','CRON','0 30 9 ? * 2-6','FIRE_ONCE_NOW','ROUND','syncOrders','shop\'s "main" db','DISCARD_LATER',120,3,'BEAN',NULL,NULL,NULL,'3',1,0,0),(3,2,'Heartbeat','2024-01-01 00:00:00','2024-01-01 00:00:00','ops',NULL,'FIX_RATE','30','DO_NOTHING','FIRST','demoJobHandler','ping','COVER_EARLY',0,0,'BEAN',NULL,NULL,NULL,NULL,1,0,0),(4,1,'Shell cleanup','2024-01-01 00:00:00','2024-01-01 00:00:00','ops',NULL,'CRON','0 0 3 ? * 1#2','DO_NOTHING','FIRST','','','SERIAL_EXECUTION',0,0,'GLUE_SHELL','#!/bin/bash\necho "cleanup $1"\nexit 0','v1','2024-01-01 00:00:00',NULL,1,0,0),(5,1,'Groovy job','2024-01-01 00:00:00','2024-01-01 00:00:00','ops',NULL,'CRON','0 0 1 * * ?','DO_NOTHING','FIRST','','','SERIAL_EXECUTION',0,0,'GLUE_GROOVY','class X {}','v1','2024-01-01 00:00:00',NULL,1,0,0),(6,1,'Manual only','2024-01-01 00:00:00','2024-01-01 00:00:00','ops',NULL,'NONE',NULL,'DO_NOTHING','FIRST','demoJobHandler','','SERIAL_EXECUTION',0,0,'BEAN',NULL,NULL,NULL,NULL,0,0,0);
